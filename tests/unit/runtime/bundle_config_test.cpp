// Tests for runtime/bundle_config and the mount options of runtime/bundle_rootfs: what kiln-runtime reads
// from a bundle, and what it refuses before anything is made.
#include "runtime/bundle_config.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>

#include "runtime/bundle_rootfs.h"
#include "tests/unit/support/temp_dir.h"

namespace kiln::runtime {
namespace {

std::string with(const std::string& process, const std::string& linux_part = "{}") {
  return R"({"ociVersion": "1.0.2", "root": {"path": "rootfs", "readonly": true}, "hostname": "h",
             "process": )" + process + R"(, "linux": )" + linux_part + "}";
}

TEST(BundleConfig, ReadsWhatTheContainerRuns) {
  test::TempDir dir;
  ASSERT_EQ(::mkdir((dir.path() + "/rootfs").c_str(), 0755), 0);
  auto c = parse_bundle_config(
      with(R"({"args": ["sh", "-c", "true"], "env": ["A=1"], "cwd": "/tmp", "user": {"uid": 1000, "gid": 50,
               "additionalGids": [7]}, "capabilities": {"bounding": ["CAP_KILL", "CAP_CHOWN"]},
               "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 64, "soft": 32}], "noNewPrivileges": true})",
           R"({"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}],
               "resources": {"memory": {"limit": 1048576}, "pids": {"limit": 10}},
               "maskedPaths": ["/proc/kcore"], "sysctl": {"net.ipv4.ip_forward": "1"}})"),
      dir.path());
  ASSERT_TRUE(c.ok()) << c.error().what();
  EXPECT_EQ(c->args, (std::vector<std::string>{"sh", "-c", "true"}));
  EXPECT_EQ(c->uid, 1000u);
  EXPECT_EQ(c->gid, 50u);
  EXPECT_EQ(c->additional_gids, (std::vector<gid_t>{7}));
  EXPECT_EQ(c->caps.bounding, (CapSet{1} << 5) | (CapSet{1} << 0));
  EXPECT_EQ(c->caps.effective, 0u);
  EXPECT_EQ(c->rlimits.size(), 1u);
  EXPECT_TRUE(c->root_readonly);
  EXPECT_EQ(c->root, dir.path() + "/rootfs");
  EXPECT_TRUE(c->has_namespace(CLONE_NEWPID));
  EXPECT_FALSE(c->has_namespace(CLONE_NEWNET));
  EXPECT_EQ(c->memory_limit, 1048576);
  EXPECT_EQ(c->pids_limit, 10);
  EXPECT_EQ(c->sysctl.at("net.ipv4.ip_forward"), "1");
}

TEST(BundleConfig, RefusesBadBundlesWithTheField) {
  test::TempDir dir;
  ASSERT_EQ(::mkdir((dir.path() + "/rootfs").c_str(), 0755), 0);
  auto err = [&](const std::string& text) {
    auto c = parse_bundle_config(text, dir.path());
    return c ? std::string() : c.error().what();
  };
  const std::string ns = R"({"namespaces": [{"type": "mount"}, {"type": "uts"}]})";
  EXPECT_NE(err("{nope").find("not valid JSON"), std::string::npos);
  EXPECT_NE(err(with(R"({"args": []})", ns)).find("process.args"), std::string::npos);
  EXPECT_NE(err(with(R"({"args": ["x"], "cwd": "tmp"})", ns)).find("process.cwd"), std::string::npos);
  EXPECT_NE(err(with(R"({"args": ["x"]})", R"({"namespaces": [{"type": "bogus"}]})")).find("unknown namespace type"),
            std::string::npos);
  EXPECT_NE(err(with(R"({"args": ["x"]})", R"({"namespaces": [{"type": "uts"}, {"type": "uts"}]})")).find("twice"),
            std::string::npos);
  EXPECT_NE(err(with(R"({"args": ["x"], "user": {"uid": 4294967295}})", ns)).find("malformed"), std::string::npos);
  EXPECT_NE(err(with(R"({"args": ["x"], "capabilities": {"bounding": ["CAP_NOPE"]}})", ns)).find("unknown capability"),
            std::string::npos);
  EXPECT_NE(err(with(R"({"args": ["x"]})", R"({"namespaces": [{"type": "mount"}]})")).find("uts namespace"),
            std::string::npos);
  EXPECT_NE(err(with(R"({"args": ["x"]})", R"({"namespaces": [{"type": "uts"}]})")).find("needs a mount namespace"),
            std::string::npos);
  EXPECT_NE(err(R"({"ociVersion": "0.9", "process": {"args": ["x"]}, "root": {"path": "rootfs"}})").find("1.x"),
            std::string::npos);
  EXPECT_NE(err(R"({"ociVersion": "1.0.0", "process": {"args": ["x"]}, "root": {"path": "missing"}})")
                .find("does not exist"),
            std::string::npos);
}

TEST(BundleRootfs, MountOptions) {
  auto o = parse_mount_options({"rbind", "ro", "nosuid", "rslave", "mode=755", "size=64k"});
  EXPECT_TRUE(o.bind);
  EXPECT_TRUE(o.recursive);
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_RDONLY | MS_NOSUID));
  EXPECT_EQ(o.propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(o.data, "mode=755,size=64k");
  auto rw = parse_mount_options({"ro", "rw"});
  EXPECT_EQ(rw.flags & MS_RDONLY, 0u);
}

}  // namespace
}  // namespace kiln::runtime
