// Tests for runtime/workdir: the working directory's path cleaned as docker cleans it.
#include "runtime/workdir.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace kiln::runtime
