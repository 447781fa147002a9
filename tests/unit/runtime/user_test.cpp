// Tests for runtime/user: names, ids, groups and supplementary groups from the image's files.
#include "runtime/user.h"

#include <gtest/gtest.h>

namespace kiln::runtime {
namespace {

const char* kPasswd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:App:/home/app:/bin/sh\n# comment\nbroken line\n";
const char* kGroup = "root:x:0:\napp:x:1000:\nwheel:x:10:app,other\naudio:x:29:app\n";

TEST(ResolveUser, ByNameWithSupplementaryGroups) {
  auto u = resolve_user("app", kPasswd, kGroup);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_EQ(u->gid, 1000u);
  EXPECT_EQ(u->home, "/home/app");
  EXPECT_EQ(u->groups, (std::vector<gid_t>{10, 29}));
}

TEST(ResolveUser, NumericAndExplicitGroup) {
  EXPECT_EQ(resolve_user("", kPasswd, kGroup)->uid, 0u);
  auto u = resolve_user("1000:wheel", kPasswd, kGroup);
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_EQ(u->gid, 10u);
  EXPECT_TRUE(u->groups.empty());
  auto unknown = resolve_user("4242:77", kPasswd, kGroup);
  ASSERT_TRUE(unknown.ok());  // numeric ids need no entry
  EXPECT_EQ(unknown->uid, 4242u);
  EXPECT_EQ(unknown->gid, 77u);
  EXPECT_EQ(unknown->home, "/");
}

TEST(ResolveUser, IdsThatWouldWrapToRootAreErrors) {
  // 4294967296 wraps to 0 in a uid_t; 4294967295 is (uid_t)-1, which setresuid reads as "leave unchanged".
  for (const char* spec : {"4294967296", "4294967295", "99999999999999999999", "0:4294967295", "1000:4294967296"}) {
    auto u = resolve_user(spec, kPasswd, kGroup);
    EXPECT_FALSE(u.ok()) << spec;
    if (!u.ok()) {
      EXPECT_NE(u.error().what().find("4294967294"), std::string::npos) << u.error().what();
    }
  }
  EXPECT_EQ(resolve_user("4294967294", kPasswd, kGroup)->uid, 4294967294u);
  // A passwd line with such an id is not a match for anything.
  EXPECT_FALSE(resolve_user("evil", "evil:x:4294967296:0::/:/bin/sh\n", "").ok());
}

TEST(ResolveUser, UnknownNamesAreErrors) {
  EXPECT_FALSE(resolve_user("ghost", kPasswd, kGroup).ok());
  EXPECT_FALSE(resolve_user("app:ghosts", kPasswd, kGroup).ok());
  EXPECT_FALSE(resolve_user("app", "", "").ok());
}

}  // namespace
}  // namespace kiln::runtime
