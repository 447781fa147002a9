// Tests for runtime/start_ahead: state file, cgroup and network namespace made on a side thread, handed over
// once each, and undone when never taken.
#include "runtime/start_ahead.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "tests/unit/support/temp_dir.h"

namespace kiln::runtime {
namespace {

namespace fs = std::filesystem;

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

ino_t own_netns() {
  struct stat st {};
  stat("/proc/thread-self/ns/net", &st);
  return st.st_ino;
}

class StartAheadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (cgroups, network namespaces)";
    ::setenv("KILN_RUN_DIR", m_run.path().c_str(), 1);
  }
  void TearDown() override { ::unsetenv("KILN_RUN_DIR"); }
  ContainerSpec spec(const std::string& id_digit, const std::string& name) const {
    ContainerSpec s;
    s.id = std::string(64, id_digit[0]);
    s.name = name;
    s.pids_limit = 64;
    return s;
  }
  test::TempDir m_run;
};

TEST_F(StartAheadTest, HandsOverStateCgroupAndNamespace) {
  ino_t home = own_netns();
  StartAhead ahead(spec("a", "ahead-one"));
  auto state = ahead.take_state();
  ASSERT_TRUE(state.ok()) << state.error().what();
  EXPECT_TRUE(fs::exists(m_run / (std::string(64, 'a') + ".json")));
  auto cg = ahead.take_cgroup();
  ASSERT_TRUE(cg.ok()) << cg.error().what();
  ASSERT_FALSE(cg->dirs().empty());
  for (const auto& d : cg->dirs()) EXPECT_TRUE(fs::is_directory(d)) << d;
  auto netns = ahead.take_netns();
  ASSERT_TRUE(netns.ok()) << netns.error().what();
  struct stat st {};
  fstat(netns->get(), &st);
  EXPECT_NE(st.st_ino, home) << "a namespace of its own";
  EXPECT_EQ(own_netns(), home) << "kiln stays in its own";
  auto again = ahead.take_netns();  // a shared-memory start that fell back to fork asks once more
  ASSERT_TRUE(again.ok());
  struct stat st2 {};
  fstat(again->get(), &st2);
  EXPECT_NE(st2.st_ino, st.st_ino);
  std::vector<std::string> dirs = cg->dirs();
  cg->destroy();
  state->remove();
  for (const auto& d : dirs) EXPECT_FALSE(fs::exists(d));
}

TEST_F(StartAheadTest, UntakenPartsAreUndone) {
  size_t fds = open_fds();
  {
    StartAhead ahead(spec("b", "ahead-two"));
    ahead.wait();
    EXPECT_TRUE(fs::exists(m_run / (std::string(64, 'b') + ".json")));
  }  // as when the image could not be resolved
  EXPECT_FALSE(fs::exists(m_run / (std::string(64, 'b') + ".json")));
  EXPECT_FALSE(fs::exists(m_run / ".names/ahead-two")) << "the name is free again";
  EXPECT_EQ(open_fds(), fds) << "no namespace or lock fd left open";
  StartAhead again(spec("c", "ahead-two"));
  EXPECT_TRUE(again.take_state().ok()) << "so the name can be taken";
}

TEST_F(StartAheadTest, NameInUseIsReportedAndNothingIsMade) {
  StartAhead first(spec("d", "ahead-three"));
  auto held = first.take_state();
  ASSERT_TRUE(held.ok());
  StartAhead second(spec("e", "ahead-three"));
  auto state = second.take_state();
  ASSERT_FALSE(state.ok());
  EXPECT_NE(std::string(state.error().what()).find("already in use"), std::string::npos) << state.error().what();
  EXPECT_FALSE(second.take_cgroup().ok()) << "no cgroup for a start that cannot go on";
  held->remove();
}

TEST_F(StartAheadTest, TakesOneMoreJobOnItsThreadAfterItsOwnWork) {
  cpu_set_t mine;
  ASSERT_EQ(sched_getaffinity(0, sizeof mine, &mine), 0);
  if (CPU_COUNT(&mine) < 2) GTEST_SKIP() << "one CPU: no side thread to hand a job to";
  StartAhead ahead(spec("f", "ahead-four"));
  auto state = ahead.take_state();
  auto cg = ahead.take_cgroup();
  ASSERT_TRUE(state.ok() && cg.ok());
  pid_t job_tid = 0;
  bool had_netns = false;
  auto job = [&] {
    job_tid = gettid();
    had_netns = ahead.take_netns().ok();  // on the thread itself: made already, no join of itself
  };
  // Taken only when kiln's thread is on the CPU the side thread was born off: exactly one of the CPUs.
  int accepted = 0;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &mine) && ahead.then(job, c)) ++accepted;
  EXPECT_EQ(accepted, 1);
  ahead.wait();
  EXPECT_NE(job_tid, 0) << "wait() returned before the job ran";
  EXPECT_NE(job_tid, gettid()) << "the job ran on the caller's thread";
  EXPECT_TRUE(had_netns);
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &mine)) {
      EXPECT_FALSE(ahead.then([] {}, c)) << "a joined thread takes no job";
    }
  }
  cg->destroy();
  state->remove();
}

}  // namespace
}  // namespace kiln::runtime
