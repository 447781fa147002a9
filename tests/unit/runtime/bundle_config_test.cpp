// Tests for runtime/bundle_config and the mount options of runtime/bundle_rootfs: what kiln-runtime reads
// from a bundle, and what it refuses before anything is made.
#include "runtime/bundle_config.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include "common/fd.h"
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
  EXPECT_EQ(c->resources.memory_limit, 1048576);
  EXPECT_EQ(c->resources.pids_limit, 10);
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
  // No mount namespace is the host's (the spec: one not listed is inherited); what would change the host's mounts
  // outside the container's root is refused.
  const std::string host_mnt = R"({"namespaces": [{"type": "uts"}])";
  auto writable = [](std::string text) {
    return text.replace(text.find(R"("readonly": true)"), 16, R"("readonly": false)");
  };
  EXPECT_EQ(err(writable(with(R"({"args": ["x"]})", host_mnt + "}"))), "");
  EXPECT_NE(err(with(R"({"args": ["x"]})", host_mnt + "}")).find("root.readonly: needs a mount namespace"),
            std::string::npos);
  EXPECT_NE(err(writable(with(R"({"args": ["x"]})", host_mnt + R"(, "maskedPaths": ["/proc/kcore"]})")))
                .find("linux.maskedPaths: needs a mount namespace"),
            std::string::npos);
  EXPECT_NE(err(writable(with(R"({"args": ["x"]})", host_mnt + R"(, "readonlyPaths": ["/proc/sys"]})")))
                .find("linux.readonlyPaths: needs a mount namespace"),
            std::string::npos);
  EXPECT_NE(err(writable(with(R"({"args": ["x"]})", host_mnt + R"(, "rootfsPropagation": "shared"})")))
                .find("linux.rootfsPropagation: needs a mount namespace"),
            std::string::npos);
  EXPECT_NE(err(R"({"ociVersion": "0.9", "process": {"args": ["x"]}, "root": {"path": "rootfs"}})").find("1.x"),
            std::string::npos);
  EXPECT_NE(err(R"({"ociVersion": "1.0.0", "process": {"args": ["x"]}, "root": {"path": "missing"}})")
                .find("does not exist"),
            std::string::npos);
}

TEST(BundleHooks, ParsedAndChecked) {
  auto hs = parse_bundle_hooks(R"({"prestart": [{"path": "/bin/a", "args": ["a", "1"], "env": ["X=1"], "timeout": 5}],
                                   "poststop": [{"path": "/bin/b"}], "createRuntime": null})",
                               "config.json");
  ASSERT_TRUE(hs.ok()) << hs.error().what();
  ASSERT_EQ(hs->prestart.size(), 1u);
  EXPECT_EQ(hs->prestart[0].args, (std::vector<std::string>{"a", "1"}));
  EXPECT_EQ(hs->prestart[0].env, (std::vector<std::string>{"X=1"}));
  EXPECT_EQ(hs->prestart[0].timeout, 5);
  EXPECT_EQ(hs->poststop[0].path, "/bin/b");
  EXPECT_TRUE(hs->runs_at_create());
  auto err = [](const std::string& text) {
    auto h = parse_bundle_hooks(text, "config.json");
    return h ? std::string() : h.error().what();
  };
  EXPECT_NE(err(R"({"prestart": [{"path": "rel"}]})").find("must be absolute"), std::string::npos);
  EXPECT_NE(err(R"({"poststart": [{"path": "/x", "timeout": 0}]})").find("timeout must be a positive"), std::string::npos);
  EXPECT_NE(err(R"({"poststart": [{"path": "/x", "timeout": "5"}]})").find("timeout"), std::string::npos);
  EXPECT_NE(err(R"({"poststart": [{"args": ["x"]}]})").find("needs a \"path\""), std::string::npos);
  EXPECT_NE(err(R"({"poststart": {"path": "/x"}})").find("array of hooks"), std::string::npos);
  EXPECT_NE(err(R"({"prestop": [{"path": "/x"}]})").find("unknown kind of hook"), std::string::npos);
  EXPECT_NE(err(R"({"prestart": [{"path": "/x", "env": [1]}]})").find("array of strings"), std::string::npos);
}

TEST(BundleHooks, StateJson) {
  std::string s = hook_state_json({"c1", "/b", {{"k", "v"}}}, "created", 42);
  EXPECT_NE(s.find(R"("id":"c1")"), std::string::npos);
  EXPECT_NE(s.find(R"("status":"created")"), std::string::npos);
  EXPECT_NE(s.find(R"("pid":42)"), std::string::npos);
  EXPECT_NE(s.find(R"("annotations":{"k":"v"})"), std::string::npos);
}

TEST(BundleHooks, RunsInOrderWithStateAndTimeout) {
  test::TempDir dir;
  std::string out = dir.path() + "/out";
  std::vector<Hook> hooks = {{"/bin/sh", {"sh", "-c", "echo one $(cat) >> " + out}, {}, 0},
                             {"/bin/sh", {"sh", "-c", "echo two $X >> " + out}, {"X=x"}, 0}};
  ASSERT_TRUE(run_hooks(hooks, "poststart", "{}").ok());
  auto text = read_file(out, 4096);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "one {}\ntwo x\n");
  auto failed = run_hooks({{"/bin/sh", {"sh", "-c", "echo first; echo bad thing >&2; exit 3"}, {}, 0}}, "prestart", "{}");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().what().find("hooks.prestart[0] (/bin/sh) failed: exit status 3: bad thing"), std::string::npos);
  auto slow = run_hooks({{"/bin/sleep", {"sleep", "30"}, {}, 1}}, "poststop", "{}");
  ASSERT_FALSE(slow.ok());
  EXPECT_NE(slow.error().what().find("timeout of 1s"), std::string::npos);
  // What a timed-out hook started goes with it.
  std::string pidfile = dir.path() + "/child.pid";
  auto wrapped = run_hooks({{"/bin/sh", {"sh", "-c", "sleep 30 & echo $! > " + pidfile + "; wait"}, {}, 1}}, "prestart", "{}");
  ASSERT_FALSE(wrapped.ok());
  auto child = read_file(pidfile, 64);
  ASSERT_TRUE(child.ok());
  std::string stat_path = "/proc/" + std::to_string(std::stol(*child)) + "/stat";
  auto alive = [&] {  // a zombie has died (whoever adopted it reaps it when it will)
    auto stat = read_file(stat_path, 4096);
    return stat.ok() && stat->find(") Z ") == std::string::npos;
  };
  for (int i = 0; i < 100 && alive(); ++i) ::usleep(10000);
  EXPECT_FALSE(alive()) << "the hook's own child outlived its timeout";
  auto missing = run_hooks({{"/nope/x", {}, {}, 0}}, "poststop", "{}");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().what().find("exec /nope/x"), std::string::npos);
  // A hook that never reads its stdin gets the state anyway, however big, without hanging the runtime.
  std::string big = "{\"x\":\"" + std::string(1 << 20, 'a') + "\"}";
  EXPECT_TRUE(run_hooks({{"/bin/true", {}, {}, 5}}, "poststop", big).ok());
}

TEST(BundleResources, ParsedAndChecked) {
  auto r = parse_bundle_resources(R"({"memory": {"limit": -1}, "cpu": {"quota": 50000, "cpus": "0-1"}})", "f");
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_EQ(r->memory_limit, -1);
  EXPECT_EQ(r->cpu_quota, 50000);
  EXPECT_EQ(r->cpuset_cpus, "0-1");
  EXPECT_FALSE(r->pids_limit.has_value());
  EXPECT_FALSE(parse_bundle_resources(R"({"cpu": {"cpus": "0;1"}})", "f").ok());
  EXPECT_FALSE(parse_bundle_resources(R"({"pids": {"limit": -2}})", "f").ok());
  EXPECT_FALSE(parse_bundle_resources(R"([1])", "f").ok());
  EXPECT_FALSE(parse_bundle_resources(R"({nope)", "f").ok());
}

// The rest of linux.resources: memory beyond its limit, block I/O, huge pages and v2 files are read; what
// kiln-runtime cannot apply is refused, naming the field, never dropped.
TEST(BundleResources, MemoryBlockIoHugePagesAndUnified) {
  auto r = parse_bundle_resources(R"({"memory": {"limit": 100, "reservation": 50, "swap": 200, "swappiness": 10,
      "disableOOMKiller": true, "kernel": 5},
      "blockIO": {"weight": 500, "weightDevice": [{"major": 8, "minor": 0, "weight": 300}, {"major": 8, "minor": 16,
      "leafWeight": 20}], "throttleReadBpsDevice": [{"major": 254, "minor": 0, "rate": 1048576}],
      "throttleWriteIOPSDevice": [{"major": 254, "minor": 0, "rate": 0}]},
      "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}], "unified": {"memory.high": "1000", "io.weight": "default 50"}})",
                                  "f");
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_EQ(r->memory_reservation, 50);
  EXPECT_EQ(r->memory_swap, 200);
  EXPECT_EQ(r->memory_swappiness, 10);
  EXPECT_TRUE(r->disable_oom_killer);
  EXPECT_EQ(r->blkio_weight, 500);
  ASSERT_EQ(r->blkio_weight_device.size(), 1u);
  EXPECT_EQ(r->blkio_weight_device[0].value, 300);
  ASSERT_EQ(r->blkio_leaf_weight_device.size(), 1u);
  EXPECT_EQ(r->blkio_leaf_weight_device[0].minor, 16);
  ASSERT_EQ(r->throttle_read_bps.size(), 1u);
  EXPECT_EQ(r->throttle_read_bps[0].major, 254);
  EXPECT_EQ(r->throttle_read_bps[0].value, 1048576);
  EXPECT_EQ(r->throttle_write_iops.size(), 1u);
  EXPECT_EQ(r->hugepage_limits, (std::vector<std::pair<std::string, int64_t>>{{"2MB", 4194304}}));
  EXPECT_EQ(r->unified.size(), 2u);
  // docker's old "unset" swappiness, -1 as a uint64
  auto unset = parse_bundle_resources(R"({"memory": {"swappiness": 18446744073709551615}})", "f");
  ASSERT_TRUE(unset.ok()) << unset.error().what();
  EXPECT_FALSE(unset->memory_swappiness.has_value());

  auto refused = [](const std::string& text, const std::string& words) {
    auto bad = parse_bundle_resources(text, "f");
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_NE(bad.error().message.find(words), std::string::npos) << bad.error().message;
  };
  refused(R"({"memory": {"swappiness": 101}})", "swappiness");
  refused(R"({"memory": {"disableOOMKiller": 1}})", "disableOOMKiller");
  refused(R"({"blockIO": {"weight": 5}})", "blockIO.weight");
  refused(R"({"blockIO": {"weightDevice": [{"major": 8, "minor": 0, "weight": 1}]}})", "weightDevice.weight");
  refused(R"({"blockIO": {"throttleReadBpsDevice": [{"major": 8, "rate": 1}]}})", "minor");
  refused(R"({"hugepageLimits": [{"pageSize": "2XB", "limit": 1}]})", "pageSize");
  refused(R"({"unified": {"cgroup.procs": "1"}})", "cgroup.procs");
  refused(R"({"unified": {"../memory.max": "1"}})", "../memory.max");
  refused(R"({"unified": {"memory.max": 1}})", "must be a string");
  refused(R"({"network": {"classID": 7}})", "linux.resources.network");
  EXPECT_TRUE(parse_bundle_resources(R"({"network": {"classID": 0, "priorities": []}})", "f").ok());
  refused(R"({"rdma": {"mlx5_1": {"hcaHandles": 3}}})", "linux.resources.rdma");
}

TEST(BundleCgroups, PathStaysInTheHierarchy) {
  EXPECT_EQ(*bundle_cgroup_path("", "c1"), "kiln-runtime/c1");
  EXPECT_EQ(*bundle_cgroup_path("/a/b", "c1"), "a/b");
  EXPECT_FALSE(bundle_cgroup_path("/a/../../etc", "c1").ok());
  EXPECT_FALSE(bundle_cgroup_path("..", "c1").ok());
  EXPECT_FALSE(bundle_cgroup_path("system.slice:kiln:c1", "c1").ok());
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
