// Tests for runtime/clone_vm: the child runs the function on its own stack in this process's memory, the caller
// resumes only once the child has exited (or exec'd), and a refused clone3 comes back as -1/errno.
#include "runtime/clone_vm.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kiln::runtime {
namespace {

struct Shared {
  int written = 0;
  pid_t seen_pid = 0;
};

int child_writes(void* arg) {
  auto* s = static_cast<Shared*>(arg);
  s->written = 42;         // lands in the parent's memory: no copy-on-write copy
  s->seen_pid = getpid();  // the child's own pid, not the parent's
  return 7;
}

int child_execs(void*) {
  char* argv[] = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"), const_cast<char*>("exit 3"), nullptr};
  execv(argv[0], argv);
  return 127;
}

TEST(CloneVm, ChildRunsInOurMemoryAndWeResumeWhenItIsDone) {
  if (!can_clone_vm()) GTEST_SKIP() << "not on this architecture";
  Shared s;
  struct clone_args args {};
  args.exit_signal = SIGCHLD;
  pid_t pid = clone_vm(args, child_writes, &s);
  ASSERT_GT(pid, 0) << strerror(errno);
  // clone_vm returned: the child has already exited, and what it wrote is here.
  EXPECT_EQ(s.written, 42);
  EXPECT_EQ(s.seen_pid, pid);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
}

TEST(CloneVm, ExecEndsTheSharing) {
  if (!can_clone_vm()) GTEST_SKIP() << "not on this architecture";
  struct clone_args args {};
  args.exit_signal = SIGCHLD;
  pid_t pid = clone_vm(args, child_execs, nullptr);
  ASSERT_GT(pid, 0) << strerror(errno);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
}

TEST(CloneVm, RefusedCloneIsAnError) {
  if (!can_clone_vm()) GTEST_SKIP() << "not on this architecture";
  struct clone_args args {};
  args.exit_signal = SIGCHLD;
  args.flags = CLONE_INTO_CGROUP;
  args.cgroup = 1u << 30;  // no such fd
  Shared s;
  errno = 0;
  EXPECT_EQ(clone_vm(args, child_writes, &s), -1);
  EXPECT_NE(errno, 0);
  EXPECT_EQ(s.written, 0);  // nothing ran
}

}  // namespace
}  // namespace kiln::runtime
