// Tests for runtime/cgroups: handing a controller down a cgroup v2 tree whose cgroup holds processes of its own,
// as a rootless kiln's delegated cgroup holds kiln. Needs root and cgroup v2 with a controller at its root (this
// host's hybrid v2 offers hugetlb); skipped elsewhere.
#include "runtime/cgroups.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

#include "common/fd.h"

namespace kiln::runtime {
namespace {

std::string first_word(const std::string& file) {
  auto text = read_file(file, 4096);
  std::istringstream in(text ? *text : "");
  std::string w;
  in >> w;
  return w;
}

bool lists(const std::string& file, const std::string& word) {
  auto text = read_file(file, 1 << 16);
  std::istringstream in(text ? *text : "");
  std::string w;
  while (in >> w)
    if (w == word) return true;
  return false;
}

/// A cgroup below the v2 root to try the controller in, removed (with what the test made) at the end.
struct TestCgroup : ::testing::Test {
  std::string root, ctrl, dir;
  bool enabled_at_root = false;
  pid_t child = -1;
  void SetUp() override {
    root = cgroup_v2_mount();
    if (::geteuid() != 0 || root.empty()) GTEST_SKIP() << "needs root and cgroup v2";
    ctrl = first_word(root + "/cgroup.controllers");
    if (ctrl.empty()) GTEST_SKIP() << "the v2 root offers no controller";
    if (!lists(root + "/cgroup.subtree_control", ctrl)) {
      ASSERT_TRUE(write_file_all(root + "/cgroup.subtree_control", "+" + ctrl));
      enabled_at_root = true;
    }
    dir = root + "/kiln-unit-" + std::to_string(::getpid());
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  }
  void TearDown() override {
    if (child > 0) {
      ::kill(child, SIGKILL);
      ::waitpid(child, nullptr, 0);
    }
    if (!dir.empty()) {
      ::rmdir((dir + "/kiln-procs").c_str());
      ::rmdir(dir.c_str());
    }
    if (enabled_at_root) (void)write_file_all(root + "/cgroup.subtree_control", "-" + ctrl);
  }
  static bool write_file_all(const std::string& path, const std::string& value) {
    auto fd = open_fd(path, O_WRONLY | O_CLOEXEC);
    return fd && write_all(fd->get(), value).ok();
  }
};

TEST_F(TestCgroup, AProcessInTheCgroupIsMovedIntoALeafFirst) {
  child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  ASSERT_TRUE(write_file_all(dir + "/cgroup.procs", std::to_string(child)));
  // What kiln met before: the kernel refuses while the cgroup holds the process.
  auto fd = open_fd(dir + "/cgroup.subtree_control", O_WRONLY | O_CLOEXEC);
  ASSERT_TRUE(fd.ok());
  auto refused = write_all(fd->get(), "+" + ctrl);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().sys_errno, EBUSY);
  auto st = enable_for_children(dir, ctrl);
  ASSERT_TRUE(st.ok()) << st.error().what();
  EXPECT_TRUE(lists(dir + "/cgroup.subtree_control", ctrl));
  EXPECT_TRUE(lists(dir + "/kiln-procs/cgroup.procs", std::to_string(child)));
  EXPECT_FALSE(lists(dir + "/cgroup.procs", std::to_string(child)));
  EXPECT_TRUE(enable_for_children(dir, ctrl).ok()) << "a second time is a no-op";
}

TEST_F(TestCgroup, AnEmptyCgroupNeedsNoLeaf) {
  auto st = enable_for_children(dir, ctrl);
  ASSERT_TRUE(st.ok()) << st.error().what();
  EXPECT_TRUE(lists(dir + "/cgroup.subtree_control", ctrl));
  EXPECT_FALSE(path_exists(dir + "/kiln-procs"));
}

TEST_F(TestCgroup, AControllerTheCgroupLacksIsAnError) {
  EXPECT_FALSE(enable_for_children(dir, "no-such-controller").ok());
  EXPECT_FALSE(path_exists(dir + "/kiln-procs"));
}

// A container that is over takes its cgroups with it, even when a process outside its pid namespace (an exec's
// middle process) is still in them: destroy kills it rather than leave the cgroup behind.
TEST(CgroupDestroy, KillsWhatIsLeftInIt) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  ContainerSpec spec;
  spec.id = "c9e0d1e5c9e0d1e5" + std::string(48, '0');
  spec.pids_limit = 16;
  auto cg = Cgroup::create(spec.id, spec);
  ASSERT_TRUE(cg.ok()) << cg.error().what();
  std::vector<std::string> dirs = cg->dirs();
  if (dirs.empty()) GTEST_SKIP() << "no pids controller here";
  pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  if (auto joined = cg->join(child); !joined) {
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    cg->destroy();
    FAIL() << joined.error().what();
  }
  cg->destroy();
  int status = 0;
  pid_t reaped = ::waitpid(child, &status, WNOHANG);
  if (reaped == 0) {  // still alive: the test's own cleanup
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    for (const auto& d : dirs) ::rmdir(d.c_str());
  }
  ASSERT_EQ(reaped, child) << "the process left in the cgroup was not killed";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  for (const auto& d : dirs) EXPECT_FALSE(path_exists(d)) << d;
}

}  // namespace
}  // namespace kiln::runtime
