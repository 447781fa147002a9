// The default profile's tables and how they become a libseccomp filter. The lists follow docker's default
// profile (profiles/seccomp/default.json in moby) for x86-64, without io_uring (docker dropped it too).
#include "runtime/seccomp_default.h"

#include <linux/capability.h>
#include <sched.h>
#include <sys/socket.h>

#include <initializer_list>

namespace kiln::runtime {

namespace {

using Names = std::initializer_list<const char*>;

/// Allowed for everyone.
constexpr Names kAllowed = {
    // files and directories
    "access", "chdir", "chmod", "chown", "close", "close_range", "copy_file_range", "creat", "dup", "dup2", "dup3",
    "faccessat", "faccessat2", "fadvise64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown",
    "fchownat", "fcntl", "fdatasync", "fgetxattr", "flistxattr", "flock", "fremovexattr", "fsetxattr", "fstat",
    "fstatfs", "fsync", "ftruncate", "futimesat", "getcwd", "getdents", "getdents64", "getxattr", "inotify_add_watch",
    "inotify_init", "inotify_init1", "inotify_rm_watch", "lchown", "lgetxattr", "link", "linkat", "listxattr",
    "llistxattr", "lremovexattr", "lseek", "lsetxattr", "lstat", "mkdir", "mkdirat", "mknod", "mknodat",
    "name_to_handle_at", "newfstatat", "open", "openat", "openat2", "pread64", "preadv", "preadv2", "pwrite64",
    "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "removexattr", "rename",
    "renameat", "renameat2", "rmdir", "sendfile", "setxattr", "splice", "stat", "statfs", "statx", "symlink",
    "symlinkat", "sync", "sync_file_range", "syncfs", "tee", "truncate", "umask", "unlink", "unlinkat", "utime",
    "utimensat", "utimes", "vmsplice", "write", "writev",
    // asynchronous and polled I/O
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
    "epoll_wait_old", "eventfd", "eventfd2", "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_setup",
    "io_submit", "ioctl", "pipe", "pipe2", "poll", "ppoll", "pselect6", "select", "signalfd", "signalfd4",
    "timerfd_create", "timerfd_gettime", "timerfd_settime",
    // memory
    "brk", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mlock", "mlock2", "mlockall", "mmap",
    "mprotect", "mremap", "msync", "munlock", "munlockall", "munmap", "pkey_alloc", "pkey_free", "pkey_mprotect",
    "remap_file_pages",
    // processes, threads, signals
    "arch_prctl", "capget", "capset", "execve", "execveat", "exit", "exit_group", "fork", "futex", "futex_waitv",
    "get_robust_list", "get_thread_area", "getcpu", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
    "getrlimit", "getrusage", "getsid", "gettid", "ioprio_get", "ioprio_set", "kill", "modify_ldt", "pause",
    "pidfd_open", "pidfd_send_signal", "prctl", "prlimit64", "process_mrelease", "restart_syscall", "rseq",
    "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_tgsigqueueinfo", "sched_get_priority_max", "sched_get_priority_min", "sched_getaffinity",
    "sched_getattr", "sched_getparam", "sched_getscheduler", "sched_rr_get_interval", "sched_setaffinity",
    "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "set_robust_list",
    "set_thread_area", "set_tid_address", "setpgid", "setpriority", "setrlimit", "setsid", "sigaltstack", "tgkill",
    "tkill", "vfork", "wait4", "waitid", "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
    // the process's own credentials
    "getegid", "geteuid", "getgid", "getgroups", "getresgid", "getresuid", "getuid", "setfsgid", "setfsuid",
    "setgid", "setgroups", "setregid", "setresgid", "setresuid", "setreuid", "setuid",
    // time
    "adjtimex", "alarm", "clock_adjtime", "clock_getres", "clock_gettime", "clock_nanosleep", "getitimer",
    "gettimeofday", "nanosleep", "setitimer", "time", "timer_create", "timer_delete", "timer_getoverrun",
    "timer_gettime", "timer_settime", "times",
    // sockets (socket itself is filtered by family below) and System V / POSIX IPC
    "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt", "listen", "recvfrom",
    "recvmmsg", "recvmsg", "sendmmsg", "sendmsg", "sendto", "setsockopt", "shutdown", "socketpair", "mq_getsetattr",
    "mq_notify", "mq_open", "mq_timedreceive", "mq_timedsend", "mq_unlink", "msgctl", "msgget", "msgrcv", "msgsnd",
    "semctl", "semget", "semop", "semtimedop", "shmat", "shmctl", "shmdt", "shmget",
    // the system, read-only
    "sysinfo", "uname",
    // tracing one's own children: since kernel 4.8 seccomp cannot be bypassed by ptrace (docker allows them too)
    "ptrace", "process_vm_readv", "process_vm_writev"};

struct CapRule {
  int cap;
  Names names;
};

/// Allowed only with a capability, as docker's profile allows them.
const CapRule kWithCap[] = {
    {CAP_SYS_ADMIN, {"bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
                     "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open",
                     "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount2",
                     "unshare"}},
    {CAP_DAC_READ_SEARCH, {"open_by_handle_at"}},
    {CAP_SYS_BOOT, {"reboot"}},
    {CAP_SYS_CHROOT, {"chroot"}},
    {CAP_SYS_MODULE, {"delete_module", "init_module", "finit_module"}},
    {CAP_SYS_PACCT, {"acct"}},
    {CAP_SYS_PTRACE, {"kcmp", "pidfd_getfd", "process_madvise"}},
    {CAP_SYS_RAWIO, {"iopl", "ioperm"}},
    {CAP_SYS_TIME, {"settimeofday", "clock_settime"}},
    {CAP_SYS_TTY_CONFIG, {"vhangup"}},
    {CAP_SYS_NICE, {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
    {CAP_SYSLOG, {"syslog"}},
    {CAP_BPF, {"bpf"}},
    {CAP_PERFMON, {"perf_event_open"}},
};

/// Filtered by argument: personality to the values docker allows, socket to any family but AF_VSOCK (the
/// network namespace does not confine vsock), clone without namespace flags (without CAP_SYS_ADMIN).
constexpr Names kByArgument = {"personality", "socket", "clone", "clone3"};
constexpr uint64_t kPersonalities[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};
constexpr uint64_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                     CLONE_NEWPID | CLONE_NEWNET;

/// The newest call the tables consider (set_mempolicy_home_node, x86-64 number 450); anything above is newer
/// than kiln and answers ENOSYS, up to this bound (the kernel's x86-64 table ends far below it).
constexpr int kNewestKnown = 450;
constexpr int kEnosysUpTo = 1023;

bool has(CapSet caps, int cap) { return caps & (CapSet{1} << cap); }

Status add(scmp_filter_ctx ctx, uint32_t action, const char* name, std::initializer_list<scmp_arg_cmp> args = {}) {
  int nr = seccomp_syscall_resolve_name(name);
  if (nr < 0) return make_error(ErrorCode::generic, std::string("seccomp: kiln's table names an unknown call ") + name);
  int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(args.size()), args.begin());
  if (rc < 0 && rc != -EEXIST) return make_error(ErrorCode::generic, std::string("seccomp rule for ") + name + " failed");
  return {};
}

}  // namespace

std::vector<std::string> default_profile_names() {
  std::vector<std::string> out(kAllowed.begin(), kAllowed.end());
  for (const auto& r : kWithCap) out.insert(out.end(), r.names.begin(), r.names.end());
  out.insert(out.end(), kByArgument.begin(), kByArgument.end());
  return out;
}

int default_profile_newest_call() { return kNewestKnown; }

Result<SeccompFilter> default_seccomp(CapSet caps) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
  if (!ctx) return make_error(ErrorCode::generic, "seccomp_init failed");
  SeccompFilter f(ctx);
  // Anything not of the native ABI (i386 int 0x80, x32) kills the process, so the lists cannot be bypassed.
  seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  sort_seccomp_as_tree(ctx);
  for (const char* n : kAllowed) TRY(add(ctx, SCMP_ACT_ALLOW, n));
  bool admin = has(caps, CAP_SYS_ADMIN);
  for (const auto& r : kWithCap)
    if (has(caps, r.cap))
      for (const char* n : r.names) TRY(add(ctx, SCMP_ACT_ALLOW, n));
  for (uint64_t p : kPersonalities) TRY(add(ctx, SCMP_ACT_ALLOW, "personality", {SCMP_A0(SCMP_CMP_EQ, p)}));
  TRY(add(ctx, SCMP_ACT_ALLOW, "socket", {SCMP_A0(SCMP_CMP_NE, AF_VSOCK)}));
  if (!admin) {
    TRY(add(ctx, SCMP_ACT_ALLOW, "clone", {SCMP_A0(SCMP_CMP_MASKED_EQ, kNamespaceFlags, 0)}));
    // clone3 keeps its flags in memory the filter cannot read: ENOSYS, and libc falls back to clone.
    TRY(add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3"));
  }
  for (int nr = kNewestKnown + 1; nr <= kEnosysUpTo; ++nr) {
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
    if (rc < 0 && rc != -EEXIST) return make_error(ErrorCode::generic, "seccomp rule for call " + std::to_string(nr) + " failed");
  }
  return f;
}

}  // namespace kiln::runtime
