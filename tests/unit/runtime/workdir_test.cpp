// Tests for runtime/workdir: the working directory's path cleaned as docker cleans it.
#include "runtime/workdir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/unit/support/temp_dir.h"

namespace kiln::runtime {
namespace {

TEST(Workdir, CleanPathAsDocker) {
  EXPECT_EQ(clean_path(""), "/");
  EXPECT_EQ(clean_path("/"), "/");
  EXPECT_EQ(clean_path("/srv/app/"), "/srv/app");
  EXPECT_EQ(clean_path("//srv//./app"), "/srv/app");
  EXPECT_EQ(clean_path("/srv/../opt/x/.."), "/opt");
  EXPECT_EQ(clean_path("/../../etc"), "/etc");  // ".." stops at the root
  EXPECT_EQ(clean_path("work"), "/work");       // an image's relative WorkingDir is taken from the root
}

bool is_dir(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

TEST(Workdir, MadeAsWrittenAsGoMkdirAllMakesIt) {
  test::TempDir dir;
  const std::string& t = dir.path();
  ASSERT_TRUE(make_workdir_as_written(t + "/a/b/../c/./d/").ok());
  EXPECT_TRUE(is_dir(t + "/a/b"));  // made on the way to "..", as runc's MkdirAll makes it
  EXPECT_TRUE(is_dir(t + "/a/c/d"));
  EXPECT_TRUE(make_workdir_as_written(t + "/a/c/d").ok());  // there already: nothing to do
  test::write_text(t + "/f", "x");
  auto st = make_workdir_as_written(t + "/f/g/h");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("is not a directory"), std::string::npos) << st.error().message;
  EXPECT_FALSE(is_dir(t + "/f/g"));
}

}  // namespace
}  // namespace kiln::runtime
