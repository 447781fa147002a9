#include "builder/stage_workers.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

using namespace kiln;
using namespace kiln::builder;

TEST(StageWorkers, EachResultComesBackInItsPlaceFromAProcessOfItsOwn) {
  pid_t me = ::getpid();
  std::vector<WorkerJob> jobs;
  for (size_t i = 0; i < 5; ++i)
    jobs.push_back([i, me]() -> Result<size_t> { return ::getpid() == me ? 999 : i * 10; });
  int sig = -1;
  auto r = run_in_workers(jobs, 2, &sig);
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(sig, 0);
  for (size_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(r[i].has_value()) << i;
    ASSERT_TRUE(r[i]->ok()) << i;
    EXPECT_EQ(**r[i], i * 10);
  }
  sigset_t now;
  ::pthread_sigmask(SIG_SETMASK, nullptr, &now);
  EXPECT_FALSE(sigismember(&now, SIGCHLD)) << "the signal mask is restored";
  EXPECT_FALSE(sigismember(&now, SIGINT));
}

TEST(StageWorkers, TheFirstFailureStopsTheOthersAndKeepsItsWords) {
  std::vector<WorkerJob> jobs;
  jobs.push_back([]() -> Result<size_t> {
    ::sleep(60);
    return 1;
  });
  jobs.push_back([]() -> Result<size_t> {
    ::usleep(100 * 1000);
    return make_error(ErrorCode::invalid_argument, "Buildfile:7: RUN failed: exit status 3 (the last: a b  c)");
  });
  jobs.push_back([]() -> Result<size_t> { return 3; });  // not started: the failure came first
  int sig = -1;
  auto r = run_in_workers(jobs, 2, &sig);
  ASSERT_EQ(r.size(), 3u);
  ASSERT_TRUE(r[1].has_value());
  ASSERT_FALSE(r[1]->ok());
  EXPECT_EQ(r[1]->error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(r[1]->error().message, "Buildfile:7: RUN failed: exit status 3 (the last: a b  c)");
  ASSERT_TRUE(r[0].has_value());
  ASSERT_FALSE(r[0]->ok()) << "the sleeping worker was not stopped";
  EXPECT_EQ(r[0]->error().code, ErrorCode::cancelled);
  EXPECT_NE(r[0]->error().message.find("SIGTERM"), std::string::npos) << r[0]->error().message;
  EXPECT_FALSE(r[2].has_value()) << "a job after the failure is the caller's";
  EXPECT_EQ(sig, 0);
}

TEST(StageWorkers, AWorkerThatDiesWithoutAReportIsAnErrorNamingHowItEnded) {
  std::vector<WorkerJob> jobs;
  jobs.push_back([]() -> Result<size_t> {
    ::raise(SIGKILL);
    return 0;
  });
  int sig = -1;
  auto r = run_in_workers(jobs, 1, &sig);
  ASSERT_TRUE(r[0].has_value());
  ASSERT_FALSE(r[0]->ok());
  EXPECT_EQ(r[0]->error().code, ErrorCode::generic);
  EXPECT_NE(r[0]->error().message.find("SIGKILL"), std::string::npos) << r[0]->error().message;
}

TEST(StageWorkers, ASignalToKilnIsPassedOnAndNamed) {
  pid_t me = ::getpid();
  std::vector<WorkerJob> jobs;
  for (int i = 0; i < 2; ++i)
    jobs.push_back([me, i]() -> Result<size_t> {
      if (i == 0) ::kill(me, SIGTERM);  // as a user's kill of kiln
      ::sleep(60);
      return 1;
    });
  int sig = -1;
  auto r = run_in_workers(jobs, 2, &sig);
  EXPECT_EQ(sig, SIGTERM);
  for (const auto& one : r) {
    ASSERT_TRUE(one.has_value());
    ASSERT_FALSE(one->ok()) << "a worker was not stopped";
    EXPECT_EQ(one->error().code, ErrorCode::cancelled);
  }
}
