// Final launch steps in the child.
#include "runtime/launcher.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "common/fd.h"
#include "common/identity.h"
#include "runtime/process_config.h"
#include "runtime/user.h"

namespace kiln::runtime {

namespace {

/// The file's text, or nothing when it cannot be read (an image without /etc/group is common). No Error is
/// built for that: in a container's start its first run costs more than the read.
std::string read_if_present(const char* path) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  auto text = read_fd(fd, 4u << 20);
  ::close(fd);
  return text ? std::move(*text) : std::string{};
}

}  // namespace

Result<ResolvedUser> resolve_user_in_root(const std::string& user) {
  return resolve_user(user, read_if_present("/etc/passwd"), read_if_present("/etc/group"));
}

void child_fail(int fd, int exit_code, const std::string& message, int err) {
  ChildFailure f{exit_code, err, {}};
  std::string m = message;
  if (err) m += std::string(": ") + std::strerror(err);
  if (fd == kFailToStderr) {
    std::string line = "kiln-runtime: " + m + "\n";
    (void)!::write(2, line.data(), line.size());
    ::_exit(exit_code);
  }
  std::strncpy(f.message, m.c_str(), sizeof f.message - 1);
  (void)!::write(fd, &f, sizeof f);
  ::_exit(exit_code);
}

int attach_tty(int slave) {
  if (::setsid() < 0) return errno;
  if (::ioctl(slave, TIOCSCTTY, 0) < 0) return errno;
  for (int i = 0; i < 3; ++i)
    if (::dup2(slave, i) < 0) return errno;
  if (slave > 2) ::close(slave);
  return 0;
}

int make_container_tty(int sock) {
  int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return errno;
  int unlock = 0;
  if (::ioctl(master, TIOCSPTLCK, &unlock) < 0) return errno;
  int n = 0;
  if (::ioctl(master, TIOCGPTN, &n) < 0) return errno;
  char name[32];
  std::snprintf(name, sizeof name, "/dev/pts/%d", n);
  int slave = ::open(name, O_RDWR | O_NOCTTY);
  if (slave < 0) return errno;
  if (int e = send_byte(sock, 't', master)) return e;
  ::close(master);
  ::close(sock);
  return attach_tty(slave);
}

int receive_tty_master(int sock) {
  char byte;
  int fd;
  return receive_byte(sock, &byte, &fd) ? fd : -1;
}

namespace {

/// True when the process behind the pidfd has exited (a pidfd polls readable then).
bool supervisor_gone(int pidfd) {
  struct pollfd pfd = {pidfd, POLLIN, 0};
  return ::poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR));
}

/// pid 1 with --init: forward signals to the command, reap every orphan, exit as the command did.
[[noreturn]] void reaper(pid_t child) {
  // This pid 1 stays kiln's image for the container's whole life: never dumpable, so /proc/1/exe cannot
  // be opened from inside (CVE-2019-5736).
  ::prctl(PR_SET_DUMPABLE, 0);
  ::prctl(PR_SET_NAME, "kiln-init");
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, nullptr);
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig == SIGCHLD) {
      int status;
      pid_t p;
      while ((p = ::waitpid(-1, &status, WNOHANG)) > 0) {
        if (p == child) ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
      }
    } else if (sig > 0) {
      ::kill(child, sig);
    }
  }
}

[[noreturn]] void exec_command(const LaunchPlan& plan, int error_fd) {
  std::vector<char*> argv, envp;
  for (const auto& a : plan.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : plan.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const std::string& file = plan.args[0];
  if (file.find('/') != std::string::npos) {
    ::execve(file.c_str(), argv.data(), envp.data());
    int e = errno;
    child_fail(error_fd, e == ENOENT ? 127 : 126, "exec \"" + file + "\"", e);
  }
  std::string path = get_env(plan.env, "PATH").value_or(kDefaultPath);
  int last = ENOENT;
  size_t start = 0;
  for (;;) {
    size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + file;
    ::execve(candidate.c_str(), argv.data(), envp.data());
    if (errno != ENOENT && errno != ENOTDIR) last = errno;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (last == ENOENT) child_fail(error_fd, 127, "exec \"" + file + "\": executable file not found in $PATH");
  child_fail(error_fd, 126, "exec \"" + file + "\"", last);
}

}  // namespace

void launch(const LaunchPlan& plan, int error_fd) {
  LaunchPlan p = plan;
  if (!p.resolved) {
    auto r = resolve_user_in_root(p.user);
    if (!r) child_fail(error_fd, 125, r.error().what());
    p.resolved = std::move(*r);
  }
  const ResolvedUser* user = &*p.resolved;
  // kiln's "go" (after the cgroups and device filter), and the seccomp program behind it when it comes that way.
  std::optional<SeccompProgram> sent;
  bool gate_read = false;
  auto read_gate = [&] {
    gate_read = true;
    if (p.gate_fd < 0) return;
    char go;
    int no_fd;
    if (!receive_byte(p.gate_fd, &go, &no_fd)) ::_exit(125);
    if (p.seccomp_from_gate) {
      sent = SeccompProgram::receive(p.gate_fd);
      if (!sent) ::_exit(125);  // kiln is gone
      p.seccomp = &*sent;
    }
  };
  // Without no_new_privs, loading seccomp needs CAP_SYS_ADMIN: the filter goes in first, before the user and
  // capabilities change (as runc does), so kiln's own calls below pass through it (the default profile allows
  // them). When the program comes behind kiln's "go", that is waited for first.
  if (!p.no_new_privs && p.seccomp_from_gate) read_gate();
  bool seccomp_early = !p.no_new_privs && p.seccomp;
  if (seccomp_early)
    if (int e = p.seccomp->install()) child_fail(error_fd, 125, "load seccomp filter", e);
  if (!get_env(p.env, "HOME")) set_env(p.env, "HOME", user->home);
  if (int e = drop_bounding(p.caps)) child_fail(error_fd, 125, "drop capabilities", e);
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) child_fail(error_fd, 125, "keep capabilities", errno);
  int death_signal = 0;  // changing the gid or uid clears it: a container of a non-root user would outlive kiln
  ::prctl(PR_GET_PDEATHSIG, &death_signal);
  // Raw syscalls: glibc's wrappers would also signal every thread of kiln (its setxid broadcast), and a `run`
  // child shares kiln's memory, thread list included (clone_vm.h).
  // A rootless kiln that maps the user's own id alone has setgroups denied: no other group exists there.
  if (::syscall(SYS_setgroups, user->groups.size(), user->groups.data()) < 0 &&
      !(errno == EPERM && !in_initial_user_namespace()))
    child_fail(error_fd, 125, "setgroups", errno);
  if (::syscall(SYS_setresgid, user->gid, user->gid, user->gid) < 0) child_fail(error_fd, 125, "setgid", errno);
  if (::syscall(SYS_setresuid, user->uid, user->uid, user->uid) < 0) child_fail(error_fd, 125, "setuid", errno);
  if (death_signal) ::prctl(PR_SET_PDEATHSIG, death_signal);
  if (int e = p.oci_caps ? set_process_caps(*p.oci_caps) : set_process_caps(p.caps, user->uid == 0))
    child_fail(error_fd, 125, "set capabilities", e);
  if (p.no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    child_fail(error_fd, 125, "set no_new_privs", errno);
  if (::chdir(p.cwd.c_str()) < 0) child_fail(error_fd, 125, "chdir to working directory \"" + p.cwd + "\"", errno);
  char cwd[4096];
  // A cwd outside the root (a leaked host directory fd, CVE-2024-21626) shows as "(unreachable)…".
  if (!::getcwd(cwd, sizeof cwd) || cwd[0] != '/')
    child_fail(error_fd, 125, "working directory is outside the container");
  // Nothing from the host survives exec: every fd but 0-2 (and the CLOEXEC error pipe) is closed on exec.
  unsigned first_closed = 3u + static_cast<unsigned>(p.preserve_fds);
  for (int fd = 3; fd < static_cast<int>(first_closed); ++fd) ::fcntl(fd, F_SETFD, 0);
  if (::syscall(SYS_close_range, first_closed, ~0u, CLOSE_RANGE_CLOEXEC) < 0) {
    for (int fd = static_cast<int>(first_closed); fd < 65536; ++fd)
      if (fd != error_fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  if (p.start_fifo_fd >= 0) {  // created: wait for `kiln-runtime start`
    char byte = 'r';
    if (::write(p.ready_fd, &byte, 1) != 1) ::_exit(125);
    ::close(p.ready_fd);
    ssize_t n;
    do n = ::read(p.start_fifo_fd, &byte, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) ::_exit(125);
    ::close(p.start_fifo_fd);
    ::close(error_fd);
    error_fd = kFailToStderr;  // `create` has returned: what fails now is told on the container's stderr
    if (p.after_start)
      if (auto st = p.after_start(); !st) child_fail(error_fd, 125, st.error().what());
  }
  if (!gate_read) read_gate();
  // The death signal is armed again: if kiln died before that, nothing would ever kill this process.
  if (p.supervisor_pidfd >= 0 && supervisor_gone(p.supervisor_pidfd)) ::_exit(125);
  sigset_t none;
  sigemptyset(&none);
  if (p.seccomp && !seccomp_early)
    if (int e = p.seccomp->install()) child_fail(error_fd, 125, "load seccomp filter", e);
  if (p.init) {
    pid_t child = ::fork();
    if (child < 0) child_fail(error_fd, 125, "fork init", errno);
    if (child > 0) {
      // pid 1 never execs: it must hold nothing of the host's. Every fd but the container's stdio goes (the
      // error pipe too: the command's exec closes its copy, and the parent then sees EOF).
      if (::syscall(SYS_close_range, 3u, ~0u, 0u) < 0)
        for (int fd = 3; fd < 65536; ++fd) ::close(fd);
      reaper(child);
    }
  }
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s = 1; s < NSIG; ++s)
    if (s != SIGKILL && s != SIGSTOP) ::signal(s, SIG_DFL);
  exec_command(p, error_fd);
}

}  // namespace kiln::runtime
