// clone3 into a child that shares kiln's memory until it execs (CLONE_VM | CLONE_VFORK), on its own stack.
#pragma once

#include <linux/sched.h>
#include <sys/types.h>

namespace kiln::runtime {

/// True where kiln can start a child this way (x86-64; elsewhere the caller forks).
bool can_clone_vm();

/// clone3 with args (CLONE_VM and CLONE_VFORK added, the stack set to kiln's child stack): the child runs
/// fn(arg) and exits with its result, unless it execs first; the caller resumes once the child has exec'd or
/// exited. Returns the child's pid, or -1 with errno.
///
/// Until exec the child shares this process's memory (no copy of the page tables, no copy-on-write faults on
/// either side, nothing to tear down at exec) but has its own files, cwd, signal handlers and namespaces. So
/// the child must not write anything the parent will read, must use raw syscalls for setuid and friends
/// (glibc would signal the parent's threads), and must not be killed while it may hold a lock (malloc's):
/// it leaves by exec, _exit, or reading EOF from the parent. One child at a time per process: the stack is
/// shared.
pid_t clone_vm(struct clone_args args, int (*fn)(void*), void* arg);

/// fork(2)'s semantics with namespace flags (CLONE_NEW*): the child is born in the v2 cgroup cgroup_fd names
/// (clone3 with CLONE_INTO_CGROUP: no cgroup.procs write, no wait for the RCU grace period it costs); where
/// clone3 is refused (an older kernel, a seccomp profile older than clone3) or cgroup_fd is -1, plain clone,
/// and *into_cgroup says which. Returns 0 in the child, the child's pid in the parent, -1 with errno. A raw
/// clone: no thread but the caller's may be running.
pid_t clone_into_cgroup(unsigned long flags, int cgroup_fd, bool* into_cgroup);

}  // namespace kiln::runtime
