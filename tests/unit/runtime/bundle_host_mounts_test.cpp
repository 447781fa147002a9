#include "runtime/bundle_host_mounts.h"

#include <gtest/gtest.h>

namespace kiln::runtime {
namespace {

// Four lines of a mountinfo: the bundle's root is not a mount itself; two mounts under it (one with a space in
// its path, written \040), one beside it whose path only starts the same.
const char* kMountinfo =
    "22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n"
    "301 29 0:80 / /b/rootfs/proc rw - proc proc rw\n"
    "302 29 0:81 / /b/rootfs/my\\040dir rw - tmpfs tmpfs rw\n"
    "303 29 0:82 / /b/rootfs2/dev rw - tmpfs tmpfs rw\n";

TEST(HostMounts, BelowTheRootOnlyWithPathsUnescaped) {
  auto m = mounts_below(kMountinfo, "/b/rootfs");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].id, 301u);
  EXPECT_EQ(m[0].path, "/b/rootfs/proc");
  EXPECT_EQ(m[1].id, 302u);
  EXPECT_EQ(m[1].path, "/b/rootfs/my dir");
  EXPECT_TRUE(mounts_below("garbage\n\n1 2\n", "/").empty());
}

TEST(HostMounts, NewOnesAreThoseWithAnotherId) {
  std::vector<HostMount> before = {{301, "/b/rootfs/proc"}};
  std::vector<HostMount> after = {{301, "/b/rootfs/proc"}, {305, "/b/rootfs/proc"}, {306, "/b/rootfs/dev"}};
  auto n = new_mounts(before, after);
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(n[0].id, 305u);  // the same path mounted again is new
  EXPECT_EQ(n[1].id, 306u);
}

TEST(HostMounts, NothingToTakeDownIsNoError) { EXPECT_TRUE(unmount_host_mounts("/nonexistent", {}).ok()); }

}  // namespace
}  // namespace kiln::runtime
