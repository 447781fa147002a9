#include "runtime/mountinfo.h"

#include <gtest/gtest.h>

namespace kiln::runtime {
namespace {

TEST(Mountinfo, FieldsAfterTheOptionalTagsAndPathsUnescaped) {
  auto m = parse_mountinfo(
      "35 24 0:30 / /sys/fs/cgroup/memory rw,nosuid shared:15 master:3 - cgroup cgroup rw,memory\n"
      "302 29 0:81 / /b/my\\040dir\\134x rw - tmpfs tmpfs rw,size=64k\n");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].id, 35u);
  EXPECT_EQ(m[0].point, "/sys/fs/cgroup/memory");
  EXPECT_EQ(m[0].type, "cgroup");
  EXPECT_EQ(m[0].super_options, "rw,memory");
  EXPECT_EQ(m[1].point, "/b/my dir\\x");
  EXPECT_EQ(m[1].type, "tmpfs");
  EXPECT_EQ(m[1].super_options, "rw,size=64k");
}

TEST(Mountinfo, MalformedLinesAreSkipped) {
  auto m = parse_mountinfo(
      "garbage\n\n1 2\nx 1 0:1 / /a rw - tmpfs t rw\n7 1 0:1 / /b rw tmpfs t rw\n8 1 0:1 / /c rw -  \n"
      "9 1 0:1 / /d rw - tmpfs t\n");
  ASSERT_EQ(m.size(), 1u);  // no ID, no " - ", no type: each skipped; no super options is still a line
  EXPECT_EQ(m[0].id, 9u);
  EXPECT_EQ(m[0].super_options, "");
}

TEST(Mountinfo, OwnTableHasTheRoot) {
  auto m = own_mountinfo();
  ASSERT_FALSE(m.empty());
  bool root = false;
  for (const auto& l : m) root = root || l.point == "/";
  EXPECT_TRUE(root);
}

}  // namespace
}  // namespace kiln::runtime
