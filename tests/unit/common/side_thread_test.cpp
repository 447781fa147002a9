// Tests for common/side_thread: the work runs, join waits for it, the thread is born off its creator's CPU and
// takes no signal.
#include "common/side_thread.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>

#include <atomic>

namespace kiln {
namespace {

TEST(SideThread, RunsTheWorkAndJoinWaitsForIt) {
  std::atomic<int> ran{0};
  SideThread t;
  ASSERT_TRUE(t.start([&] { ran = 1; }));
  t.join();
  EXPECT_EQ(ran.load(), 1);
  t.join();                                // a second join is harmless
  ASSERT_TRUE(t.start([&] { ran = 2; }));  // and the object can start again
  t.join();
  EXPECT_EQ(ran.load(), 2);
}

TEST(SideThread, TakesNoSignal) {
  // kiln's thread blocks SIGCHLD for its signalfd; a side thread with it unblocked would swallow it.
  sigset_t seen;
  sigemptyset(&seen);
  SideThread t;
  ASSERT_TRUE(t.start([&] { pthread_sigmask(SIG_BLOCK, nullptr, &seen); }));
  t.join();
  for (int sig : {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGUSR1})
    EXPECT_EQ(sigismember(&seen, sig), 1) << "signal " << sig << " not blocked in the side thread";
}

cpu_set_t mask_in_side_thread() {
  cpu_set_t seen;
  CPU_ZERO(&seen);
  SideThread t;
  EXPECT_TRUE(t.start([&] { sched_getaffinity(0, sizeof seen, &seen); }));
  t.join();
  return seen;
}

TEST(SideThread, BornOnTheOtherCpusButWithinTheCreatorsMask) {
  cpu_set_t mine;
  ASSERT_EQ(sched_getaffinity(0, sizeof mine, &mine), 0);
  if (CPU_COUNT(&mine) < 2) GTEST_SKIP() << "one CPU";
  cpu_set_t seen = mask_in_side_thread();
  EXPECT_EQ(CPU_COUNT(&seen), CPU_COUNT(&mine) - 1) << "all but the creator's CPU";
  {
    SideThread t;
    ASSERT_TRUE(t.start([] {}));
    EXPECT_TRUE(t.elsewhere());
  }
  cpu_set_t outside;
  CPU_OR(&outside, &seen, &mine);
  EXPECT_TRUE(CPU_EQUAL(&outside, &mine)) << "no CPU the creator may not use";
  // A creator pinned to one CPU (taskset) keeps its thread there.
  int cpu = sched_getcpu();
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  seen = mask_in_side_thread();
  SideThread pinned;
  ASSERT_TRUE(pinned.start([] {}));
  EXPECT_FALSE(pinned.elsewhere()) << "a plain thread beside a pinned creator";
  pinned.join();
  sched_setaffinity(0, sizeof mine, &mine);
  EXPECT_TRUE(CPU_EQUAL(&seen, &one));
}

}  // namespace
}  // namespace kiln
