// Tests for runtime/seccomp: profiles build; a loaded default filter really blocks in a child process.
#include "runtime/seccomp.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/signals.h"

namespace kiln::runtime {
namespace {

/// Fork, load the filter, run f; the child's exit code is what f returns.
template <typename F>
int in_child(const SeccompFilter& filter, F f) {
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (filter.load() != 0) _exit(99);
    _exit(f());
  }
  int st;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + WTERMSIG(st);
}

TEST(Seccomp, DefaultBlocksNamespaceAndMountCalls) {
  auto f = default_seccomp(default_caps());
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(in_child(*f, [] { return unshare(CLONE_NEWNS) < 0 && errno == EPERM ? 0 : 1; }), 0);
  EXPECT_EQ(in_child(*f, [] { return getpid() > 0 ? 0 : 1; }), 0);
  EXPECT_EQ(in_child(*f,
                     [] {
                       pid_t p = fork();  // plain fork (clone without namespace flags) still works
                       if (p == 0) _exit(0);
                       int st;
                       return waitpid(p, &st, 0) == p ? 0 : 1;
                     }),
            0);
}

TEST(Seccomp, JsonProfile) {
  const char* profile = R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
      {"names":["getppid"],"action":"SCMP_ACT_ERRNO","errnoRet":13},
      {"names":["no_such_syscall_anywhere"],"action":"SCMP_ACT_ERRNO"}]})";
  auto f = seccomp_from_json(profile, "p.json", default_caps());
  ASSERT_TRUE(f.ok()) << f.error().what();
  EXPECT_EQ(in_child(*f, [] { return syscall(SYS_getppid) < 0 && errno == 13 ? 0 : 1; }), 0);
  EXPECT_FALSE(seccomp_from_json("{", "p.json", 0).ok());
  auto bad = seccomp_from_json(R"({"defaultAction":"SCMP_ACT_NOPE"})", "p.json", 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().what().find("p.json"), std::string::npos);
}

TEST(Signals, Names) {
  EXPECT_EQ(signal_from_name("SIGTERM"), 15);
  EXPECT_EQ(signal_from_name("kill"), 9);
  EXPECT_EQ(signal_from_name("2"), 2);
  EXPECT_EQ(signal_from_name("SIGNOPE"), -1);
  EXPECT_EQ(signal_from_name("999"), -1);
}

}  // namespace
}  // namespace kiln::runtime
