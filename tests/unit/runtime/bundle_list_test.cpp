// Tests for runtime/bundle_list: kiln-runtime list's containers and runc's table and JSON forms of them.
#include "runtime/bundle_list.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "runtime/user.h"
#include "tests/unit/support/temp_dir.h"

namespace kiln::runtime {
namespace {

BundleState state_of(const std::string& id, pid_t pid) {
  BundleState st;
  st.id = id;
  st.bundle = "/srv/bundles/" + id;
  st.rootfs = st.bundle + "/rootfs";
  st.created = "2026-12-08T01:02:03Z";
  st.pid = pid;
  st.annotations = {{"k", "v"}};
  return st;
}

TEST(BundleList, OwnerNameFromPasswdOrHashUid) {
  std::string passwd = "root:x:0:0:root:/root:/bin/sh\nbad line\nalice:x:1000:1000::/home/alice:/bin/sh\n:x:7:7::/:\n";
  EXPECT_EQ(owner_name(0, passwd), "root");
  EXPECT_EQ(owner_name(1000, passwd), "alice");
  EXPECT_EQ(owner_name(100, passwd), "#100");  // "1000" does not match 100
  EXPECT_EQ(owner_name(7, passwd), "#7");      // a line without a name is no user
  EXPECT_EQ(owner_name(0, ""), "#0");
}

TEST(BundleList, TableAsRuncPadsIt) {
  std::vector<BundleListing> list = {{state_of("web", 4242), "running", 1000}, {state_of("a", 77), "stopped", 5}};
  std::string table = bundle_list_table(list, "alice:x:1000:1000::/:/bin/sh\n");
  EXPECT_EQ(table,
            "ID          PID         STATUS      BUNDLE             CREATED                OWNER\n"
            "web         4242        running     /srv/bundles/web   2026-12-08T01:02:03Z   alice\n"
            "a           0           stopped     /srv/bundles/a     2026-12-08T01:02:03Z   #5\n");
  EXPECT_EQ(bundle_list_table({}, ""), "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n");
}

TEST(BundleList, JsonIsOneLineOfStatesWithOwnerAndNullWhenEmpty) {
  EXPECT_EQ(bundle_list_json({}, ""), "null\n");
  std::string text = bundle_list_json({{state_of("web", 4242), "created", 0}}, "root:x:0:0::/:/bin/sh\n");
  ASSERT_EQ(text.find('\n'), text.size() - 1);
  auto j = nlohmann::json::parse(text);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["id"], "web");
  EXPECT_EQ(j[0]["pid"], 4242);
  EXPECT_EQ(j[0]["status"], "created");
  EXPECT_EQ(j[0]["bundle"], "/srv/bundles/web");
  EXPECT_EQ(j[0]["rootfs"], "/srv/bundles/web/rootfs");
  EXPECT_EQ(j[0]["created"], "2026-12-08T01:02:03Z");
  EXPECT_EQ(j[0]["annotations"]["k"], "v");
  EXPECT_EQ(j[0]["owner"], "root");
  EXPECT_TRUE(j[0].contains("ociVersion"));
}

TEST(BundleList, ListsSavedContainersAndSkipsWhatIsNotOne) {
  test::TempDir dir;
  const std::string root = dir / "root";
  auto none = list_bundles(root);  // no state directory yet: nothing, not an error
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  for (const char* id : {"b", "a"}) {
    ASSERT_EQ(::mkdir(root.c_str(), 0700) == 0 || errno == EEXIST, true);
    ASSERT_EQ(::mkdir(bundle_state_dir(root, id).c_str(), 0711), 0);
    ASSERT_TRUE(save_bundle_state(root, state_of(id, 0)).ok());
  }
  ASSERT_EQ(::mkdir((root + "/.seccomp").c_str(), 0700), 0);  // kiln-runtime's own cache
  ASSERT_EQ(::mkdir((root + "/half").c_str(), 0700), 0);      // no state.json (a create that failed midway)
  test::write_text(root + "/half-file", "x");
  test::write_text(root + "/bad/state.json", "{not json");
  auto list = list_bundles(root);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].state.id, "a");
  EXPECT_EQ((*list)[1].state.id, "b");
  EXPECT_EQ((*list)[0].status, "stopped");  // pid 0: no process
  EXPECT_EQ((*list)[0].owner, ::geteuid());
}

}  // namespace
}  // namespace kiln::runtime
