// The container orchestrator: a checklist on each side of clone().
#include "runtime/container.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <ctime>

#include "common/log.h"
#include "common/side_thread.h"
#include "oci/image.h"
#include "runtime/cgroups.h"
#include "runtime/clone_vm.h"
#include "runtime/launcher.h"
#include "runtime/netns.h"
#include "runtime/process_config.h"
#include "runtime/publish.h"
#include "runtime/rootfs.h"
#include "runtime/seccomp_cache.h"
#include "runtime/start_ahead.h"
#include "runtime/user_namespace.h"

namespace kiln::runtime {

namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

/// The terminal of kiln itself in raw mode while a -t container runs; restored on destruction.
struct RawTerminal {
  bool active = false;
  struct termios saved {};
  void enter() {
    if (!::isatty(0) || ::tcgetattr(0, &saved) < 0) return;
    struct termios raw = saved;
    ::cfmakeraw(&raw);
    if (::tcsetattr(0, TCSANOW, &raw) == 0) active = true;
  }
  ~RawTerminal() {
    if (active) ::tcsetattr(0, TCSANOW, &saved);
  }
};

void copy_winsize(int master) {
  struct winsize ws;
  if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
}

bool pump(int from, int to) {
  char buf[16384];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) return false;
  return write_all(to, buf, static_cast<size_t>(n)).ok();
}

/// Supervise until the child exits: forward signals, shuttle pty bytes, return the exit code (128+signal).
/// With kill_on_interrupt, SIGINT, SIGTERM and SIGHUP kill the child instead, and *cancelled_by names the first.
int supervise(pid_t child, int sigfd, int master, bool interactive, bool kill_on_interrupt = false,
              int* cancelled_by = nullptr) {
  bool stdin_open = master >= 0 && interactive;
  for (;;) {
    struct pollfd fds[3] = {{sigfd, POLLIN, 0}, {master, POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0 && errno != EINTR) break;
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      if (!pump(master, 1)) master = -1;
    }
    if (fds[2].revents & (POLLIN | POLLHUP)) {
      if (!pump(0, master)) stdin_open = false;
    }
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (::read(sigfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGCHLD) continue;
        if (si.ssi_signo == SIGWINCH && master >= 0) copy_winsize(master);
        bool cancel =
            kill_on_interrupt && (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP);
        if (cancel && cancelled_by && *cancelled_by == 0) *cancelled_by = static_cast<int>(si.ssi_signo);
        ::kill(child, cancel ? SIGKILL : static_cast<int>(si.ssi_signo));
      }
    }
    int status;
    pid_t p = ::waitpid(child, &status, WNOHANG);
    if (p == child) {
      while (master >= 0 && pump(master, 1)) {
      }
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
  }
  int status;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// Block the forwarded signals (and SIGCHLD) and return a signalfd for them; restores the mask on destruction.
struct SignalGuard {
  sigset_t set{}, old{};
  int fd = -1;
  SignalGuard() {
    sigemptyset(&set);
    for (int s : kForwarded) sigaddset(&set, s);
    sigaddset(&set, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &set, &old);
    fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  }
  ~SignalGuard() {
    if (fd >= 0) ::close(fd);
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
  }
};

RunOutcome failure(int code, Error e) {
  RunOutcome o;
  o.exit_code = code;
  o.error = std::move(e);
  o.failed_to_start = true;
  return o;
}

/// Read the child's report: EOF means exec succeeded.
bool read_failure(int fd, ChildFailure& f) { return read_exact(fd, &f, sizeof f); }

/// -t: the pty is made inside the container's own devpts (so ttyname works there); its master comes back
/// to kiln over this socketpair.
struct Pty {
  int master = -1, parent_sock = -1, child_sock = -1;
  Status open() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return sys_error("socketpair for the terminal");
    parent_sock = sv[0];
    child_sock = sv[1];
    return {};
  }
  void close_child_end() {
    if (child_sock >= 0) ::close(child_sock);
    child_sock = -1;
  }
  /// Parent: wait for the master; false if the child failed before sending it.
  bool receive() {
    master = receive_tty_master(parent_sock);
    if (master >= 0) copy_winsize(master);
    return master >= 0;
  }
  ~Pty() {
    if (master >= 0) ::close(master);
    if (parent_sock >= 0) ::close(parent_sock);
    close_child_end();
  }
};

/// What the child needs, read-only: with clone_vm it shares this memory with kiln until exec.
struct ChildArgs {
  const ContainerSpec* spec;
  CapSet caps;
  int go_r, go_w, err_w, pty_sock;
  int supervisor_pidfd = -1;        ///< kiln's own pidfd (see LaunchPlan)
  const cpu_set_t* cpus = nullptr;  ///< the CPU mask to take back first (CpuSplit pinned the parent)
};

/// For the few milliseconds of a shared-memory start: kiln's thread (and the child it clones, which inherits
/// the mask) on the CPU it is on, the parent's side thread (a SideThread) on the others. Otherwise the kernel
/// may queue the new child behind the side thread's work, which it does not preempt (bench/PERFORMANCE.md). The child
/// takes the whole mask back first thing, so the container is never pinned; kiln on destruction.
struct CpuSplit {
  cpu_set_t all{};
  int cpu = -1;
  pid_t kiln_tid = ::gettid();
  bool usable = false;  // fixed before the side thread starts
  CpuSplit() {
    if (::sched_getaffinity(0, sizeof all, &all) < 0 || CPU_COUNT(&all) < 2) return;
    cpu = ::sched_getcpu();
    usable = cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, &all);
  }
  /// In the side thread, once the child runs (it has its own mask by then): kiln's thread may go anywhere
  /// again, so the child's exec does not wake it on the CPU the container is using.
  void release_kiln() const {
    if (usable) ::sched_setaffinity(kiln_tid, sizeof all, &all);
  }
  /// In kiln's thread, before clone.
  bool pin_here() const {
    if (!usable) return false;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return ::sched_setaffinity(0, sizeof one, &one) == 0;
  }
  ~CpuSplit() { release_kiln(); }
};

/// The container's side, from clone to exec. Writes nothing the parent reads (see clone_vm.h): fds are closed
/// by number, not through the parent's UniqueFd objects.
[[noreturn]] void run_child(const ChildArgs& a) {
  const ContainerSpec& spec = *a.spec;
  int efd = a.err_w;
  if (a.cpus) ::sched_setaffinity(0, sizeof *a.cpus, a.cpus);
  // runc's default umask (docker's and BuildKit's containers have it), not the caller's: what a RUN makes, and
  // so the image's digest, must not depend on the umask of whoever runs kiln. (Its own fs_struct: kiln's stays.)
  ::umask(022);
  ::close(a.go_w);
  // Die with kiln. (getppid() is 0 in the new pid namespace; if kiln is already gone the go socket reads EOF.)
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // Until exec this process is kiln's image: keep /proc/<pid>/exe and /proc/<pid>/mem away from the
  // container (CVE-2019-5736). exec of the command makes it dumpable again.
  ::prctl(PR_SET_DUMPABLE, 0);
  if (!spec.tty && !spec.interactive) {
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
  }
  if (::sethostname(spec.hostname.c_str(), spec.hostname.size()) < 0)
    child_fail(efd, kExitRuntime, "sethostname", errno);
  auto empty = prepare_rootfs(containers_dir(), spec);
  if (!empty) child_fail(efd, kExitRuntime, empty.error().what());
  auto user = resolve_user_in_root(spec.user);
  if (!user) child_fail(efd, kExitRuntime, user.error().what());
  // First message: the network namespace (for --network none), as soon as kiln has made it.
  char c;
  int netns;
  if (!receive_byte(a.go_r, &c, &netns)) ::_exit(kExitRuntime);
  if (spec.network != Network::host && (netns < 0 || ::setns(netns, CLONE_NEWNET) < 0))
    child_fail(efd, kExitRuntime, "join the container's network namespace", netns < 0 ? EBADF : errno);
  if (netns >= 0) ::close(netns);
  if (auto st = finish_rootfs(spec, std::move(*empty)); !st) child_fail(efd, kExitRuntime, st.error().what());
  if (spec.tty)
    if (int e = make_container_tty(a.pty_sock)) child_fail(efd, kExitRuntime, "create the container's terminal", e);
  for (const auto& r : spec.rlimits) {
    struct rlimit rl = {r.soft, r.hard};
    if (::setrlimit(r.resource, &rl) < 0) child_fail(efd, kExitRuntime, "setrlimit", errno);
  }
  LaunchPlan plan;
  plan.args = spec.args;
  plan.env = spec.env;
  plan.cwd = spec.cwd.empty() ? "/" : spec.cwd;
  plan.user = spec.user;
  plan.resolved = std::move(*user);
  plan.caps = a.caps;
  plan.init = spec.init;
  // Nothing of the command runs before kiln's second message: the process is then in its cgroups, behind
  // the device filter. launch waits for it as late as it can, then reads the seccomp program that follows
  // (a RUN step, without no_new_privs, waits first: its filter must go in while it still holds CAP_SYS_ADMIN).
  plan.gate_fd = a.go_r;
  plan.seccomp_from_gate = true;
  plan.no_new_privs = spec.no_new_privileges;
  plan.supervisor_pidfd = a.supervisor_pidfd;
  launch(plan, efd);
}

int child_entry(void* args) { run_child(*static_cast<const ChildArgs*>(args)); }

/// The parent's share of a start, while the child mounts its root: the network namespace (sent first, and
/// connected by pasta when ports are published: forwarder, on kiln's main thread), the leftovers of killed
/// kilns, the seccomp program, the cgroups and the device filter, then "go" with the program. pid is the child's
/// when v1 cgroups need it written (0 otherwise).
Status prepare_beside_child(const ContainerSpec& spec, CapSet caps, const Cgroup& cg, pid_t pid, bool in_v2, int go_w,
                            PortForwarder* forwarder = nullptr) {
  UniqueFd netns;
  if (spec.network != Network::host) netns = TRY(spec.ahead ? spec.ahead->take_netns() : make_network_namespace());
  // A child already gone reports on the error pipe.
  (void)send_byte(go_w, 'n', netns.get());
  if (spec.network == Network::pasta && forwarder)
    *forwarder = TRY(PortForwarder::start(netns.get(), spec.ports, containers_dir() + "/" + spec.id + "."));
  netns.reset();
  StateFile::sweep_leftovers();
  SeccompProgram filter = TRY(seccomp_program(spec.seccomp_profile, caps, spec.seccomp_cache));
  TRY(cg.join(pid, in_v2));
  if (send_byte(go_w, 'g') == 0) (void)filter.send(go_w);
  return {};
}

/// The shared-memory start (clone_vm.h): the parent's share runs on a side thread while kiln's thread waits in
/// clone_vm until the child has exec'd or exited; beside gets the side's status (a failure there closed the go
/// socket, and the child exited on EOF). -1 when this start cannot be had (no thread, clone3 refused).
pid_t start_sharing_memory(const ContainerSpec& spec, CapSet caps, const Cgroup& cg, unsigned long flags,
                           ChildArgs& args, int go_w, Status& beside) {
  CpuSplit split;
  auto parent_share = [&] {
    beside = prepare_beside_child(spec, caps, cg, 0, true, go_w);
    if (!beside) ::shutdown(go_w, SHUT_WR);
    split.release_kiln();
  };
  // The StartAhead's thread takes it when there is one (done with its own work, or nearly): one thread a start.
  SideThread parent_side;
  bool on_ahead = spec.ahead && spec.ahead->then(parent_share, split.cpu);
  if (!on_ahead && !parent_side.start(parent_share)) return -1;
  if (split.pin_here()) args.cpus = &split.all;
  struct clone_args ca {};
  // Into its v2 cgroup; a rootless container without one stays in kiln's.
  ca.flags = flags | (cg.v2_fd() >= 0 ? CLONE_INTO_CGROUP : 0);
  ca.exit_signal = SIGCHLD;
  if (cg.v2_fd() >= 0) ca.cgroup = static_cast<uint64_t>(cg.v2_fd());
  pid_t child = clone_vm(ca, child_entry, &args);
  args.cpus = nullptr;                       // split goes with this frame
  if (child < 0) ::shutdown(go_w, SHUT_WR);  // the parent side finds no reader
  if (spec.ahead) spec.ahead->wait();        // done with its job, or idle since its own work when it had none
  parent_side.join();
  return child;
}

}  // namespace

RunOutcome run_container(const ContainerSpec& spec, const std::function<void(pid_t)>& on_started) {
  // 1. Decide what can fail cleanly before any namespace exists. (The seccomp program is prepared by the parent
  // while the child mounts the root, and sent to it with "go".)
  auto caps = compute_caps(spec.cap_add, spec.cap_drop);
  if (!caps) return failure(kExitRuntime, std::move(caps).error());
  if (auto st = check_mount_sources(spec); !st) return failure(kExitRuntime, std::move(st).error());
  // 2. State file, locked while we live; filled once the container runs.
  auto state = spec.ahead ? spec.ahead->take_state() : StateFile::create(spec);
  if (!state) return failure(kExitRuntime, std::move(state).error());
  struct StateCleanup {
    StateFile& s;
    ~StateCleanup() { s.remove(); }
  } state_cleanup{*state};
  ContainerState cs;
  cs.id = spec.id;
  cs.name = spec.name;
  cs.image = spec.image;
  cs.image_digest = spec.image_digest;
  cs.image_id = spec.image_id;
  cs.store_root = spec.store_root;
  cs.created = oci::rfc3339(::time(nullptr));
  cs.args = spec.args;
  cs.stop_signal = spec.stop_signal;
  cs.stop_timeout = spec.stop_timeout;
  cs.log_path = spec.log_path;
  cs.ports = ports_text(spec.ports);
  cs.env = spec.env;
  cs.user = spec.user;
  cs.cwd = spec.cwd;
  cs.seccomp_profile = spec.seccomp_profile;
  cs.cap_add = spec.cap_add;
  cs.cap_drop = spec.cap_drop;
  // 3. Cgroups with the limits.
  auto cg = spec.ahead ? spec.ahead->take_cgroup() : Cgroup::create(spec.id, spec);
  if (!cg) return failure(kExitRuntime, std::move(cg).error());
  struct CgroupCleanup {
    Cgroup& c;
    ~CgroupCleanup() { c.destroy(); }
  } cg_cleanup{*cg};
  // 4. Channels: parent → child the network namespace, then "go" once the cgroups and the device filter are in
  // place (a socketpair, to carry the namespace's fd); child → parent failure report (CLOEXEC: EOF means exec
  // succeeded).
  int go[2], err[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) < 0 || ::pipe2(err, O_CLOEXEC) < 0)
    return failure(kExitRuntime, sys_error("pipe"));
  UniqueFd go_r(go[0]), go_w(go[1]), err_r(err[0]), err_w(err[1]);
  Pty pty;
  if (spec.tty)
    if (auto st = pty.open(); !st) return failure(kExitRuntime, std::move(st).error());
  SignalGuard signals;
  // 5. clone into new mount, pid, uts, ipc and cgroup namespaces. The network namespace, the seccomp program
  // and the device filter are made by the parent while the child mounts its root: two CPUs at work.
  unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP;
  UniqueFd self_pidfd(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));  // CLOEXEC by nature
  ChildArgs args{&spec, *caps, go_r.get(), go_w.get(), err_w.get(), pty.child_sock, self_pidfd.get()};
  pid_t child = -1;
  bool in_v2 = false;
  Status beside;
  // pasta is kiln's child for the container's life: it is started on this thread (a side thread's end would
  // end it, PR_SET_PDEATHSIG), so such a start forks.
  PortForwarder forwarder;
  if ((cg->v2_fd() >= 0 || cg->dirs().empty()) && !cg->has_v1_dirs() && !spec.init && spec.network != Network::pasta &&
      can_clone_vm()) {
    child = start_sharing_memory(spec, *caps, *cg, flags, args, go_w.get(), beside);
    in_v2 = child >= 0;
    if (child < 0) {
      // Not into this cgroup, or not this way: fork as below, on a fresh go socket (the old one holds what
      // the parent side sent).
      int fresh[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fresh) < 0)
        return failure(kExitRuntime, sys_error("pipe"));
      go_r.reset(fresh[0]);
      go_w.reset(fresh[1]);
      args.go_r = go_r.get();
      args.go_w = go_w.get();
    }
  }
  auto kill_child = [&] {  // a shared-memory child that failed has exited already: then this only reaps it
    ::kill(child, SIGKILL);
    int status;
    ::waitpid(child, &status, 0);
  };
  bool forked = child < 0;
  if (forked) {
    if (spec.ahead) spec.ahead->wait();  // a raw clone, so no other thread may run
    child = clone_into_cgroup(flags, cg->v2_fd(), &in_v2);
    if (child < 0) return failure(kExitRuntime, sys_error("clone the container process"));
    if (child == 0) run_child(args);
  }
  if (log::enabled(log::Level::debug))
    log::debug("container " + spec.id.substr(0, 12) + ": pid " + std::to_string(child) + ", started by " +
               (!forked ? "a shared-memory clone"
                : in_v2 ? "clone3 into its cgroup"
                        : "clone") +
               (cg->dirs().empty() ? ", no cgroup" : ""));
  go_r.reset();
  err_w.reset();
  pty.close_child_end();
  if (forked) beside = prepare_beside_child(spec, *caps, *cg, child, in_v2, go_w.get(), &forwarder);
  if (!beside) {
    kill_child();
    return failure(kExitRuntime, std::move(beside).error());
  }
  go_w.reset();
  // A start that fails removes the state with the state file.
  cs.pid = child;
  // Without its identity the state names no process kill, stop or exec will act on ("not running"); a child
  // that failed already reports its own error below.
  (void)record_identity(cs);
  (void)state->save(cs);
  if (spec.state_saved) spec.state_saved();
  if (spec.tty) pty.receive();  // a failure before it shows on the error pipe next
  ChildFailure f;
  if (read_failure(err_r.get(), f)) {
    kill_child();
    f.message[sizeof f.message - 1] = '\0';
    return failure(f.exit_code, make_error(ErrorCode::generic, f.message));
  }
  if (on_started) on_started(child);
  // 7. Supervise to the end; the mount namespace (and every mount in it) dies with the container.
  RawTerminal raw;
  if (spec.tty) raw.enter();
  RunOutcome out;
  out.exit_code = supervise(child, signals.fd, pty.master, spec.interactive, spec.kill_on_interrupt, &out.cancelled_by);
  out.oom_killed = spec.memory_bytes > 0 && cg->oom_kills() > 0;
  return out;
}

}  // namespace kiln::runtime

namespace kiln::runtime {

RunOutcome exec_in_container(const ContainerState& st, const std::vector<std::string>& args, const ExecOptions& o,
                             const std::string& seccomp_cache) {
  bool tty = o.tty && !o.detach, interactive = o.interactive && !o.detach;
  auto caps = compute_caps(st.cap_add, st.cap_drop);
  if (!caps) return failure(kExitRuntime, std::move(caps).error());
  auto filter = seccomp_program(st.seccomp_profile, *caps, seccomp_cache);
  if (!filter) return failure(kExitRuntime, std::move(filter).error());
  auto pidfd = open_container_process(st);
  if (!pidfd) return failure(kExitRuntime, std::move(pidfd).error());
  if (auto joined = join_user_namespace_of(st.pid); !joined) return failure(kExitRuntime, std::move(joined).error());
  std::vector<UniqueFd> ns;
  for (const char* n : {"ipc", "uts", "net", "pid", "cgroup", "mnt"}) {
    auto fd = open_fd("/proc/" + std::to_string(st.pid) + "/ns/" + n, O_RDONLY);
    if (!fd) return failure(kExitRuntime, make_error(ErrorCode::not_found, "container " + st.name + " is not running"));
    ns.push_back(std::move(*fd));
  }
  // The namespaces were opened while the pidfd held the process: they are its own if it is still alive.
  if (struct pollfd pfd = {pidfd->get(), POLLIN, 0}; ::poll(&pfd, 1, 0) != 0)
    return failure(kExitRuntime, make_error(ErrorCode::not_found, "container " + st.name + " is not running"));
  int go[2], err[2];
  if (::pipe2(go, O_CLOEXEC) < 0 || ::pipe2(err, O_CLOEXEC) < 0) return failure(kExitRuntime, sys_error("pipe"));
  UniqueFd go_r(go[0]), go_w(go[1]), err_r(err[0]), err_w(err[1]);
  Pty pty;
  if (tty)
    if (auto s = pty.open(); !s) return failure(kExitRuntime, std::move(s).error());
  SignalGuard signals;
  pid_t parent_pid = ::getpid();
  pid_t child = ::fork();
  if (child < 0) return failure(kExitRuntime, sys_error("fork"));
  if (child == 0) {
    int efd = err_w.get();
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::prctl(PR_SET_DUMPABLE, 0);  // kiln's image must not be reachable through /proc from the container
    if (::getppid() != parent_pid) ::_exit(kExitRuntime);
    char c;
    if (::read(go_r.get(), &c, 1) != 1) ::_exit(kExitRuntime);
    for (auto& fd : ns)
      if (::setns(fd.get(), 0) < 0) child_fail(efd, kExitRuntime, "join the container's namespaces", errno);
    ns.clear();
    // setns(pid) applies to children: fork once more so the command is inside the pid namespace.
    pid_t inner = ::fork();
    if (inner < 0) child_fail(efd, kExitRuntime, "fork", errno);
    if (inner > 0 && o.detach) ::_exit(0);  // the command is the container's init's to reap from now on
    if (inner > 0) {
      ::close(efd);
      // The outer kiln forwards signals to us (their mask is still blocked): pass them on, exit as inner does.
      sigset_t set;
      sigemptyset(&set);
      for (int s : kForwarded) sigaddset(&set, s);
      sigaddset(&set, SIGCHLD);
      for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&set, &si);
        if (sig > 0 && sig != SIGCHLD) ::kill(inner, sig);
        int status;
        if (::waitpid(inner, &status, WNOHANG) == inner)
          ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
      }
    }
    if (tty) {
      if (int e = make_container_tty(pty.child_sock))
        child_fail(efd, kExitRuntime, "create the container's terminal", e);
    } else if (!interactive) {
      int devnull = ::open("/dev/null", O_RDWR);
      if (devnull >= 0) ::dup2(devnull, 0);
      if (devnull >= 0 && o.detach) ::dup2(devnull, 1), ::dup2(devnull, 2);
    }
    LaunchPlan plan;
    plan.args = args;
    plan.env = st.env;
    for (const auto& e : o.env) {
      auto eq = e.find('=');
      set_env(plan.env, e.substr(0, eq), eq == std::string::npos ? "" : e.substr(eq + 1));
    }
    if (tty && !get_env(plan.env, "TERM")) set_env(plan.env, "TERM", "xterm");  // as run -t sets it
    plan.cwd = !o.cwd.empty() ? o.cwd : st.cwd.empty() ? "/" : st.cwd;
    plan.user = !o.user.empty() ? o.user : st.user;
    plan.caps = *caps;
    plan.seccomp = &*filter;
    launch(plan, efd);
  }
  go_r.reset();
  err_w.reset();
  pty.close_child_end();
  for (const auto& dir : Cgroup::dirs_of(st.pid)) {
    auto fd = open_fd(dir + "/cgroup.procs", O_WRONLY);
    if (fd) (void)write_all(fd->get(), std::to_string(child));
  }
  (void)!::write(go_w.get(), "g", 1);
  go_w.reset();
  if (tty) pty.receive();
  ChildFailure f;
  if (read_failure(err_r.get(), f)) {
    int status;
    ::waitpid(child, &status, 0);
    f.message[sizeof f.message - 1] = '\0';
    return failure(f.exit_code, make_error(ErrorCode::generic, f.message));
  }
  RunOutcome out;
  if (o.detach) {  // the middle process left once the command was forked; the command has exec'd
    int status;
    ::waitpid(child, &status, 0);
    out.exit_code = 0;
    return out;
  }
  RawTerminal raw;
  if (tty) raw.enter();
  out.exit_code = supervise(child, signals.fd, pty.master, interactive);
  return out;
}

}  // namespace kiln::runtime
