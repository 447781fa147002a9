// Tests for runtime/caps: docker's default set and --cap-add/--cap-drop arithmetic.
#include "runtime/caps.h"

#include <gtest/gtest.h>
#include <linux/capability.h>

namespace kiln::runtime {
namespace {

TEST(Caps, DefaultIsDockers) { EXPECT_EQ(default_caps(), 0xa80425fbull); }

TEST(Caps, AddDropByAnySpelling) {
  auto c = compute_caps({"NET_ADMIN", "cap_sys_ptrace"}, {"CAP_CHOWN", "mknod"});
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(*c & (1ull << CAP_NET_ADMIN));
  EXPECT_TRUE(*c & (1ull << CAP_SYS_PTRACE));
  EXPECT_FALSE(*c & (1ull << CAP_CHOWN));
  EXPECT_FALSE(*c & (1ull << CAP_MKNOD));
  EXPECT_EQ(*compute_caps({"KILL"}, {"ALL"}), 1ull << CAP_KILL);
  EXPECT_FALSE(compute_caps({"NOT_A_CAP"}, {}).ok());
  EXPECT_EQ(cap_from_name("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
  EXPECT_EQ(cap_from_name("bogus"), -1);
}

}  // namespace
}  // namespace kiln::runtime
