// clone3 with CLONE_VM | CLONE_VFORK: a child on its own stack that runs a function, as posix_spawn does.
#include "runtime/clone_vm.h"

#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace kiln::runtime {

#if defined(__x86_64__)

// long kiln_clone3_run(struct clone_args* args, size_t size, int (*fn)(void*), void* arg)
// The child starts on args->stack with the parent's registers: fn and arg are carried in r8 and r9 (syscall
// clobbers only rcx and r11), then it calls fn(arg) as the outermost frame and exits with its result.
asm(R"(
  .text
  .globl kiln_clone3_run
  .type kiln_clone3_run, @function
kiln_clone3_run:
  mov %rdx, %r8
  mov %rcx, %r9
  mov $435, %eax
  syscall
  test %rax, %rax
  jnz 1f
  xor %ebp, %ebp
  mov %r9, %rdi
  call *%r8
  mov %eax, %edi
  mov $60, %eax
  syscall
  hlt
1:
  ret
  .size kiln_clone3_run, .-kiln_clone3_run
)");

extern "C" long kiln_clone3_run(struct clone_args* args, size_t size, int (*fn)(void*), void* arg);

namespace {

constexpr size_t kStackSize = 1u << 20;

/// The child's stack: mapped once per process (pages stay touched for the next child), a guard page below.
void* child_stack() {
  static void* stack = [] {
    void* p = ::mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (p == MAP_FAILED) return static_cast<void*>(nullptr);
    ::mprotect(p, 4096, PROT_NONE);
    return p;
  }();
  return stack;
}

}  // namespace

bool can_clone_vm() { return child_stack() != nullptr; }

pid_t clone_vm(struct clone_args args, int (*fn)(void*), void* arg) {
  void* stack = child_stack();
  if (!stack) {
    errno = ENOMEM;
    return -1;
  }
  args.flags |= CLONE_VM | CLONE_VFORK;
  args.stack = reinterpret_cast<uint64_t>(stack);
  args.stack_size = kStackSize;
  long r = kiln_clone3_run(&args, sizeof args, fn, arg);
  if (r < 0) {
    errno = static_cast<int>(-r);
    return -1;
  }
  return static_cast<pid_t>(r);
}

#else

bool can_clone_vm() { return false; }

pid_t clone_vm(struct clone_args, int (*)(void*), void*) {
  errno = ENOSYS;
  return -1;
}

#endif

pid_t clone_into_cgroup(unsigned long flags, int cgroup_fd, bool* into_cgroup) {
  *into_cgroup = false;
  if (cgroup_fd >= 0) {
    struct clone_args args {};
    args.flags = flags | CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<uint64_t>(cgroup_fd);
    long r = ::syscall(SYS_clone3, &args, sizeof args);
    if (r >= 0) {
      *into_cgroup = true;
      return static_cast<pid_t>(r);
    }
  }
  return static_cast<pid_t>(::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
}

}  // namespace kiln::runtime
