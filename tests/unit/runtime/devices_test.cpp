// Tests for runtime/devices: the device filter is attached once to a parent cgroup, found there by name
// afterwards, put back when it went missing, and binds the processes of every cgroup below.
#include "runtime/devices.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "common/fd.h"
#include "tests/unit/support/temp_dir.h"

namespace kiln::runtime {
namespace {

long bpf(int cmd, bpf_attr& attr) { return ::syscall(SYS_bpf, cmd, &attr, sizeof attr); }

/// The IDs of the device programs attached to the cgroup itself.
std::vector<uint32_t> attached(int cgroup_fd) {
  uint32_t ids[8];
  bpf_attr q;
  std::memset(&q, 0, sizeof q);
  q.query.target_fd = static_cast<uint32_t>(cgroup_fd);
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = reinterpret_cast<uint64_t>(ids);
  q.query.prog_cnt = 8;
  if (bpf(BPF_PROG_QUERY, q) < 0) return {};
  return {ids, ids + q.query.prog_cnt};
}

/// This process's own directory in the cgroup v2 hierarchy, or "" without one.
std::string own_v2_dir() {
  std::string mount = ::access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0           ? "/sys/fs/cgroup"
                      : ::access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0 ? "/sys/fs/cgroup/unified"
                                                                                         : "";
  if (mount.empty()) return "";
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("0::", 0) == 0) return mount + (line.substr(3) == "/" ? "" : line.substr(3));
  return "";
}

class DeviceFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (cgroups, BPF)";
    std::string own = own_v2_dir();
    if (own.empty()) GTEST_SKIP() << "no cgroup v2 on this host";
    m_parent = own + "/kiln-devices-test-" + std::to_string(::getpid());
    ASSERT_EQ(::mkdir(m_parent.c_str(), 0755), 0) << std::strerror(errno);
    m_fd = UniqueFd(::open(m_parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(m_fd.valid());
  }
  void TearDown() override {
    if (m_parent.empty()) return;
    ::rmdir((m_parent + "/child").c_str());
    m_fd.reset();
    ::rmdir(m_parent.c_str());
  }
  std::string m_parent;
  UniqueFd m_fd;
};

TEST_F(DeviceFilterTest, AttachedOnceThenFound) {
  ASSERT_TRUE(ensure_device_filter(m_fd.get()).ok());
  auto first = attached(m_fd.get());
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(ensure_device_filter(m_fd.get()).ok());
  EXPECT_EQ(attached(m_fd.get()), first) << "a second start loaded the program again";
}

TEST_F(DeviceFilterTest, PutBackWhenDetached) {
  ASSERT_TRUE(ensure_device_filter(m_fd.get()).ok());
  bpf_attr detach;
  std::memset(&detach, 0, sizeof detach);
  detach.target_fd = static_cast<uint32_t>(m_fd.get());
  detach.attach_type = BPF_CGROUP_DEVICE;
  ASSERT_EQ(bpf(BPF_PROG_DETACH, detach), 0) << std::strerror(errno);
  ASSERT_TRUE(attached(m_fd.get()).empty());
  ASSERT_TRUE(ensure_device_filter(m_fd.get()).ok());
  EXPECT_EQ(attached(m_fd.get()).size(), 1u);
}

TEST_F(DeviceFilterTest, BindsProcessesOfCgroupsBelow) {
  // The child cgroup is made before the filter exists: the parent's program reaches it all the same.
  std::string child = m_parent + "/child";
  ASSERT_EQ(::mkdir(child.c_str(), 0755), 0) << std::strerror(errno);
  ASSERT_TRUE(ensure_device_filter(m_fd.get()).ok());
  test::TempDir dir;
  ASSERT_EQ(::mknod((dir / "null").c_str(), S_IFCHR | 0600, makedev(1, 3)), 0) << std::strerror(errno);
  ASSERT_EQ(::mknod((dir / "kmsg").c_str(), S_IFCHR | 0600, makedev(1, 11)), 0) << std::strerror(errno);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int procs = ::open((child + "/cgroup.procs").c_str(), O_WRONLY);
    if (procs < 0 || ::write(procs, "0", 1) != 1) ::_exit(2);
    int null = ::open((dir / "null").c_str(), O_RDONLY);
    int kmsg = ::open((dir / "kmsg").c_str(), O_RDONLY);
    ::_exit(null >= 0 && kmsg < 0 && errno == EPERM ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: /dev/null refused or 1:11 allowed; 2: could not join the cgroup";
}

TEST(DevicePolicy, AppliedInOrderAsCgroupV1) {
  // containerd's form: deny everything, then allow a list.
  auto p = device_policy({{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "rwm"}, {true, 'c', 10, 229, "rw"}});
  EXPECT_FALSE(p.default_allow);
  ASSERT_EQ(p.exceptions.size(), 2u);
  EXPECT_EQ(p.exceptions[1].minor, 229);
  // An allow-all rule drops what came before; a deny then is an exception.
  p = device_policy({{true, 'c', 1, 3, "rwm"}, {true, 'a', -1, -1, "rwm"}, {false, 'b', 8, -1, "rwm"}});
  EXPECT_TRUE(p.default_allow);
  ASSERT_EQ(p.exceptions.size(), 1u);
  EXPECT_EQ(p.exceptions[0].type, 'b');
  // A deny for a device allowed earlier takes the access back (all of it: the exception goes).
  p = device_policy({{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 5, "rwm"}, {false, 'c', 1, 5, "w"}});
  ASSERT_EQ(p.exceptions.size(), 1u);
  EXPECT_EQ(p.exceptions[0].access, "rm");
  p = device_policy({{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 5, "rwm"}, {false, 'c', 1, 5, "rwm"}});
  EXPECT_TRUE(p.exceptions.empty());
}

/// Opens each node (created in a temp dir) from a child in the cgroup child_dir; a bit per node that opened.
int opened_in(const std::string& child_dir, const std::vector<std::string>& nodes, int flags) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int procs = ::open((child_dir + "/cgroup.procs").c_str(), O_WRONLY);
    if (procs < 0 || ::write(procs, "0", 1) != 1) ::_exit(255);
    int bits = 0;
    for (size_t i = 0; i < nodes.size(); ++i) {
      int fd = ::open(nodes[i].c_str(), flags);
      if (fd >= 0 || errno != EPERM) bits |= 1 << i;
    }
    ::_exit(bits);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

TEST_F(DeviceFilterTest, RulesProgramFollowsThePolicy) {
  std::string child = m_parent + "/child";
  ASSERT_EQ(::mkdir(child.c_str(), 0755), 0) << std::strerror(errno);
  UniqueFd child_fd(::open(child.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  test::TempDir dir;
  ASSERT_EQ(::mknod((dir / "null").c_str(), S_IFCHR | 0600, makedev(1, 3)), 0);
  ASSERT_EQ(::mknod((dir / "kmsg").c_str(), S_IFCHR | 0600, makedev(1, 11)), 0);
  ASSERT_EQ(::mknod((dir / "zero").c_str(), S_IFCHR | 0600, makedev(1, 5)), 0);
  std::vector<std::string> nodes = {dir / "null", dir / "kmsg", dir / "zero"};
  // Deny all, then null for reading and writing, kmsg for reading only; zero never.
  std::vector<DeviceRule> rules = {{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "rw"}, {true, 'c', 1, 11, "r"}};
  ASSERT_TRUE(attach_device_rules(child_fd.get(), rules).ok());
  EXPECT_EQ(opened_in(child, nodes, O_RDONLY), 0b011) << "null and kmsg open for reading, zero not";
  EXPECT_EQ(opened_in(child, nodes, O_WRONLY), 0b001) << "only null opens for writing";
  // Allow all, deny kmsg: the rest opens.
  ASSERT_TRUE(attach_device_rules(child_fd.get(), {{true, 'a', -1, -1, "rwm"}, {false, 'c', 1, 11, "rwm"}}).ok());
  EXPECT_EQ(opened_in(child, nodes, O_RDONLY), 0b101);
}

}  // namespace
}  // namespace kiln::runtime
