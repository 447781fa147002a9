// kiln-runtime create → start → kill → delete.
#include "runtime/bundle_lifecycle.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "cas/store.h"
#include "common/fd.h"
#include "common/number.h"
#include "oci/image.h"
#include "runtime/bundle_cgroups.h"
#include "runtime/bundle_config.h"
#include "runtime/bundle_hooks.h"
#include "runtime/bundle_host_mounts.h"
#include "runtime/bundle_idmap.h"
#include "runtime/bundle_process.h"
#include "runtime/bundle_rootfs.h"
#include "runtime/bundle_state.h"
#include "runtime/clone_vm.h"
#include "runtime/devices.h"
#include "runtime/launcher.h"
#include "runtime/seccomp.h"
#include "runtime/signals.h"
#include "runtime/state.h"

namespace kiln::runtime {

namespace {

/// In the container's process (B), from its fork on: namespaces that wait for the cgroup, the root filesystem,
/// the process's limits and terminal, then launch (which waits on the exec fifo). Never returns.
[[noreturn]] void container_process(const BundleConfig& c, const HookState& hs, const LaunchPlan& plan, int sync_fd,
                                    int error_fd, int console_fd) {
  char go;
  if (::read(sync_fd, &go, 1) != 1) ::_exit(125);  // create gave up
  for (const auto& n : c.namespaces) {             // after the move into the cgroup, so that is its root
    if (n.flag != CLONE_NEWCGROUP) continue;
    if (n.path.empty()) {
      if (::unshare(CLONE_NEWCGROUP) < 0) child_fail(error_fd, 125, "new cgroup namespace", errno);
      continue;
    }
    int fd = ::open(n.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWCGROUP) < 0) child_fail(error_fd, 125, "join cgroup namespace " + n.path, errno);
    ::close(fd);
  }
  // Once the mounts are made, before pivot_root: create runs the prestart and createRuntime hooks out there,
  // then the createContainer hooks run here, in the container's namespaces.
  auto before_pivot = [&]() -> Status {
    if (c.hooks.runs_at_create() && (::write(sync_fd, "h", 1) != 1 || ::read(sync_fd, &go, 1) != 1 || go != 'r'))
      ::_exit(125);  // create failed a hook, or gave up
    ::close(sync_fd);
    return run_hooks(c.hooks.create_container, "createContainer", hook_state_json(hs, "created", ::getpid()));
  };
  if (auto st = setup_bundle_rootfs(c, before_pivot); !st) child_fail(error_fd, 125, st.error().what());
  apply_bundle_rlimits(c, error_fd);
  if (c.oom_score_adj) {
    std::string v = std::to_string(*c.oom_score_adj);
    int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, v.data(), v.size()) < 0) child_fail(error_fd, 125, "oom_score_adj", errno);
    ::close(fd);
  }
  ::umask(c.umask.value_or(022));  // runc's default when the config names none, not the caller's
  if (c.personality && ::personality(*c.personality) < 0) child_fail(error_fd, 125, "linux.personality", errno);
  if (c.terminal)
    if (int e = make_container_tty(console_fd)) child_fail(error_fd, 125, "make the container's terminal", e);
  launch(plan, error_fd);
}

/// A namespace the config names by path, opened for setns.
struct Join {
  int fd, flag;
  std::string path;
};

/// Opens the namespaces given by path (the cgroup namespace aside: B joins it once in its cgroup); a failure
/// ends this process (A or B) with its report.
std::vector<Join> open_joins(const BundleConfig& c, int error_fd) {
  std::vector<Join> joins;
  for (const auto& n : c.namespaces) {
    if (n.flag == CLONE_NEWCGROUP || n.path.empty()) continue;
    int fd = ::open(n.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) child_fail(error_fd, 125, "open namespace " + n.path, errno);
    joins.push_back(Join{fd, n.flag, n.path});
  }
  return joins;
}

/// The new namespaces to make, but the user namespace (made first, on its own) and the cgroup namespace (B's).
unsigned long new_namespace_flags(const BundleConfig& c) {
  unsigned long flags = 0;
  for (const auto& n : c.namespaces)
    if (n.path.empty() && n.flag != CLONE_NEWUSER && n.flag != CLONE_NEWCGROUP)
      flags |= static_cast<unsigned long>(n.flag);
  return flags;
}

/// Whether create can clone B straight into its namespaces and cgroup, with no A between: not with a user
/// namespace (its maps are written from out here once it exists, before the others are made), a time namespace
/// (its clocks are set before any process is in it), or a pid or mount namespace given by path (a setns that
/// changes only later children, or this process's view of every path). The other namespaces given by path B
/// joins itself, first thing.
bool one_clone_will_do(const BundleConfig& c) {
  for (const auto& n : c.namespaces) {
    if (n.flag == CLONE_NEWUSER || n.flag == CLONE_NEWTIME) return false;
    if (!n.path.empty() && (n.flag == CLONE_NEWPID || n.flag == CLONE_NEWNS)) return false;
  }
  return c.time_offsets.empty();
}

/// A: joins the namespaces the config names by path, makes the new ones, forks B (the container's process,
/// pid 1 of a new pid namespace) and reports B's host pid. Never returns.
[[noreturn]] void namespace_parent(const BundleConfig& c, const HookState& hs, const LaunchPlan& plan, int sync_fd,
                                   int error_fd, int console_fd) {
  bool new_user = false;
  for (const auto& n : c.namespaces)
    if (n.flag == CLONE_NEWUSER && n.path.empty()) new_user = true;
  std::vector<Join> joins = open_joins(c, error_fd);
  // The namespaces given by path first (a user namespace before the rest, the mount namespace last, as runc
  // joins them), then the new ones: a new user namespace first, so that it owns the others.
  auto join = [&](bool want_user, bool want_mount) {
    for (const auto& j : joins)
      if ((j.flag == CLONE_NEWUSER) == want_user && (j.flag == CLONE_NEWNS) == want_mount && ::setns(j.fd, j.flag) < 0)
        child_fail(error_fd, 125, "join namespace " + j.path, errno);
  };
  join(true, false);
  join(false, false);
  join(false, true);
  if (new_user) {
    if (::unshare(CLONE_NEWUSER) < 0) child_fail(error_fd, 125, "new user namespace", errno);
    char m = 'u';
    if (::write(sync_fd, &m, 1) != 1 || ::read(sync_fd, &m, 1) != 1 || m != 'm') ::_exit(125);  // create wrote the maps
    // Root of the new namespace (the host ids stay unmapped there): what it makes in its own mounts then has an
    // owner the namespace can name.
    if (::setresgid(0, 0, 0) < 0 || ::setresuid(0, 0, 0) < 0)
      child_fail(error_fd, 125, "become root of the user namespace (is 0 in uidMappings and gidMappings?)", errno);
  }
  if (::unshare(static_cast<int>(new_namespace_flags(c))) < 0) child_fail(error_fd, 125, "make namespaces", errno);
  if (!c.time_offsets.empty()) {  // the new time namespace is the children's: its clocks are set before B exists
    std::string text;
    for (const auto& t : c.time_offsets)
      text += t.clock + " " + std::to_string(t.secs) + " " + std::to_string(t.nanosecs) + "\n";
    int fd = ::open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
      child_fail(error_fd, 125, "linux.timeOffsets: write /proc/self/timens_offsets", errno);
    ::close(fd);
  }
  pid_t b = ::fork();
  if (b < 0) child_fail(error_fd, 125, "fork the container's process", errno);
  if (b == 0) container_process(c, hs, plan, sync_fd, error_fd, console_fd);
  int32_t pid = b;
  ::_exit(::write(sync_fd, &pid, sizeof pid) == sizeof pid ? 0 : 125);
}

/// Undoes a create that did not finish.
struct CreateCleanup {
  std::string state_dir;
  std::vector<std::string> cgroups;
  pid_t pid = 0;
  bool our_child = false;  ///< cloned by create itself (else A's, which init reaps)
  bool done = false;
  std::string host_root;          ///< set when the container mounts in the host's mount namespace, under this
  std::vector<HostMount> before;  ///< what was mounted there before
  ~CreateCleanup() {
    if (done) return;
    if (pid > 0) ::kill(pid, SIGKILL);
    if (pid > 0 && our_child) ::waitpid(pid, nullptr, 0);
    if (pid > 0 && !our_child)
      for (int i = 0; i < 200 && ::kill(pid, 0) == 0; ++i) ::usleep(5000);
    if (!host_root.empty()) (void)unmount_host_mounts(host_root, new_mounts(before, mounts_below(host_root)));
    remove_bundle_cgroups(cgroups);
    if (!state_dir.empty()) (void)remove_tree(state_dir);
  }
};

/// Waits up to ms for a byte on fd: 1 got it, 0 EOF, -1 timed out or failed.
int wait_byte(int fd, int ms) {
  struct pollfd p = {fd, POLLIN, 0};
  if (::poll(&p, 1, ms) <= 0) return -1;
  char b;
  ssize_t n = ::read(fd, &b, 1);
  return n == 1 ? 1 : n == 0 ? 0 : -1;
}

/// The container's processes: its cgroup's, else its own while it lives.
std::vector<pid_t> pids_of(const BundleState& st) {
  if (auto pids = bundle_cgroup_pids(st.cgroups)) return *pids;
  if (bundle_process_alive(st)) return {st.pid};
  return {};
}

Result<UniqueFd> open_process(const BundleState& st) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, st.pid, 0));
  if (fd < 0 || !bundle_process_alive(st)) {
    if (fd >= 0) ::close(fd);
    return make_error(ErrorCode::not_found, "container \"" + st.id + "\": container not running");
  }
  return UniqueFd(fd);
}

/// The hooks of one kind recorded in the container's state, run with its state; a failure is a warning.
void run_state_hooks(const BundleState& st, std::vector<Hook> BundleHooks::*kind, const char* name, const char* status,
                     pid_t pid, const Warn& warn) {
  if (st.hooks_json.empty()) return;
  auto hooks = parse_bundle_hooks(st.hooks_json, "container " + st.id + " state");
  if (!hooks) return warn(hooks.error().what());
  if (auto ran = run_hooks((*hooks).*kind, name, hook_state_json({st.id, st.bundle, st.annotations}, status, pid));
      !ran)
    warn("container " + st.id + ": " + ran.error().what());
}

/// The pipes between create and the container's process: sync (a socketpair both ways: pid, "go", the hooks'
/// turns), err (its failure report; EOF means exec), ready (a byte once it waits for start).
struct Channels {
  UniqueFd sync_p, sync_c, err_r, err_w, ready_r, ready_w;
  Status open() {
    int sync[2], err[2], ready[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0) return sys_error("socketpair");
    sync_p.reset(sync[0]);
    sync_c.reset(sync[1]);
    if (::pipe2(err, O_CLOEXEC) < 0) return sys_error("pipe");
    err_r.reset(err[0]);
    err_w.reset(err[1]);
    if (::pipe2(ready, O_CLOEXEC) < 0) return sys_error("pipe");
    ready_r.reset(ready[0]);
    ready_w.reset(ready[1]);
    return {};
  }
  /// In create, once the container's process has its copies.
  void close_child_ends() {
    sync_c.reset();
    err_w.reset();
    ready_w.reset();
  }
  /// The container's report of why it failed, else fallback.
  Error failure(const std::string& id, const std::string& fallback) {
    ChildFailure f{};
    if (read_exact(err_r.get(), &f, sizeof f))
      return make_error(ErrorCode::generic, "create " + id + ": " + std::string(f.message));
    return make_error(ErrorCode::generic, "create " + id + ": " + fallback);
  }
};

/// B through A (namespace_parent): A is forked, makes the namespaces (a user namespace's maps written from
/// here), forks B and exits. Returns B's host pid.
Result<pid_t> fork_through_namespace_parent(const std::string& id, const BundleConfig& c, const HookState& hs,
                                            const LaunchPlan& plan, Channels& ch, int console_fd) {
  pid_t a = ::fork();
  if (a < 0) return sys_error("fork");
  if (a == 0) namespace_parent(c, hs, plan, ch.sync_c.get(), ch.err_w.get(), console_fd);
  ch.close_child_ends();
  bool new_user = false;
  for (const auto& n : c.namespaces)
    if (n.flag == CLONE_NEWUSER && n.path.empty()) new_user = true;
  if (new_user) {  // A made its user namespace: its maps are written from out here
    char u = 0;
    if (!read_exact(ch.sync_p.get(), &u, 1) || u != 'u') {
      ::waitpid(a, nullptr, 0);
      return ch.failure(id, "the namespace process ended");
    }
    if (auto mapped = map_bundle_user_namespace(a, c.uid_mappings, c.gid_mappings); !mapped) {
      ::kill(a, SIGKILL);
      ::waitpid(a, nullptr, 0);
      return std::move(mapped).error();
    }
    if (::write(ch.sync_p.get(), "m", 1) != 1) return sys_error("create " + id);
  }
  int32_t pid = 0;
  bool got_pid = read_exact(ch.sync_p.get(), &pid, sizeof pid);
  ::waitpid(a, nullptr, 0);
  if (!got_pid || pid <= 0) return ch.failure(id, "the namespace process ended before the container's process started");
  return static_cast<pid_t>(pid);
}

}  // namespace

Result<UniqueFd> connect_console(const std::string& path) {
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (s.get() < 0) return sys_error("console socket");
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return make_error(ErrorCode::invalid_argument, "--console-socket " + path + ": the path is too long");
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  if (::connect(s.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0)
    return sys_error("--console-socket " + path + ": connect (is it a listening unix socket?)");
  return s;
}

Result<pid_t> bundle_create(const CreateOptions& o) {
  TRY(check_container_id(o.id));
  BundleConfig c = TRY(load_bundle_config(o.bundle));
  if (c.terminal && o.console_socket.empty())
    return make_error(ErrorCode::invalid_argument, "process.terminal is true: create needs --console-socket");
  TRY(make_dirs(o.root, 0700));
  CreateCleanup undo;
  std::string dir = bundle_state_dir(o.root, o.id);
  if (::mkdir(dir.c_str(), 0711) < 0) {
    if (errno == EEXIST) return make_error(ErrorCode::conflict, "container with id exists: " + o.id);
    return sys_error("create state directory " + dir);
  }
  undo.state_dir = dir;
  std::string fifo = exec_fifo_path(o.root, o.id);
  if (::mkfifo(fifo.c_str(), 0600) < 0) return sys_error("create " + fifo);
  // Everything that can fail on a bad bundle fails here, before any process exists.
  auto seccomp = TRY(bundle_seccomp(c, o.bundle + "/config.json", bundle_seccomp_cache_dir(o.root)));
  std::string cgroup_rel = TRY(bundle_cgroup_path(c.cgroups_path, o.id));
  TRY(make_bundle_cgroups(cgroup_rel, c.resources, c.effective_device_rules(), undo.cgroups));
  UniqueFd console;
  if (c.terminal) console = TRY(connect_console(o.console_socket));
  UniqueFd fifo_fd = TRY(open_fd(fifo, O_RDWR | O_CLOEXEC));  // read-write: never an EOF before `start` writes
  Channels ch;
  TRY(ch.open());

  LaunchPlan plan = bundle_launch_plan(c, seccomp ? &*seccomp : nullptr, o.preserve_fds);
  plan.start_fifo_fd = fifo_fd.get();
  plan.ready_fd = ch.ready_w.get();
  HookState hs{o.id, c.bundle, c.annotations};
  if (!c.hooks.start_container.empty())  // in the container's process, which has its own copy of c
    plan.after_start = [&c, &hs] {
      return run_hooks(c.hooks.start_container, "startContainer", hook_state_json(hs, "created", ::getpid()));
    };

  auto child_error = [&](const std::string& fallback) { return ch.failure(o.id, fallback); };
  if (o.subreaper) ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  if (!c.has_namespace(CLONE_NEWNS)) {  // its mounts go into the host's table: known by what was there before
    undo.host_root = c.root;
    undo.before = mounts_below(c.root);
  }
  // B, the container's process: cloned straight into its namespaces and its v2 cgroup where one clone will do,
  // else forked by A (namespace_parent) after the namespaces that need it.
  bool in_v2 = false;
  pid_t pid = 0;
  if (one_clone_will_do(c)) {
    UniqueFd v2;  // the v2 cgroup comes first in undo.cgroups when there is one
    if (!undo.cgroups.empty() && path_exists(undo.cgroups[0] + "/cgroup.controllers"))
      v2 = TRY(open_fd(undo.cgroups[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    pid = clone_into_cgroup(new_namespace_flags(c), v2.get(), &in_v2);
    if (pid < 0) return sys_error("create " + o.id + ": clone the container's process");
    if (pid == 0) {
      for (const auto& j : open_joins(c, ch.err_w.get()))
        if (::setns(j.fd, j.flag) < 0) child_fail(ch.err_w.get(), 125, "join namespace " + j.path, errno);
      container_process(c, hs, plan, ch.sync_c.get(), ch.err_w.get(), console.get());
    }
    ch.close_child_ends();
    undo.our_child = true;
  } else {
    pid = TRY(fork_through_namespace_parent(o.id, c, hs, plan, ch, console.get()));
  }
  undo.pid = pid;
  for (size_t i = in_v2 ? 1 : 0; i < undo.cgroups.size(); ++i) {
    const auto& cg = undo.cgroups[i];
    UniqueFd procs = TRY(open_fd(cg + "/cgroup.procs", O_WRONLY | O_CLOEXEC));
    TRY_CTX(write_all(procs.get(), std::to_string(pid)), "join cgroup " + cg);
  }
  BundleState st;
  st.id = o.id;
  st.bundle = c.bundle;
  st.rootfs = c.root;
  st.created = oci::rfc3339(static_cast<int64_t>(::time(nullptr)));
  st.pid = pid;
  st.cgroups = undo.cgroups;
  st.cgroup_path = cgroup_rel;
  st.annotations = c.annotations;
  st.hooks_json = c.hooks_json;
  auto start = start_time_of(pid);
  if (!start) return child_error("the container's process ended while being made");
  st.pid_start = *start;
  TRY(save_bundle_state(o.root, st));
  if (::write(ch.sync_p.get(), "g", 1) != 1) return child_error("the container's process ended while being made");
  if (c.hooks.runs_at_create()) {  // the container's mounts are made, pivot_root waits for these
    char h = 0;
    if (!read_exact(ch.sync_p.get(), &h, 1) || h != 'h')
      return child_error("the container's process ended while being made");
    std::string state = hook_state_json(hs, "created", pid);
    TRY_CTX(run_hooks(c.hooks.prestart, "prestart", state), "create " + o.id);
    TRY_CTX(run_hooks(c.hooks.create_runtime, "createRuntime", state), "create " + o.id);
    if (::write(ch.sync_p.get(), "r", 1) != 1) return child_error("the container's process ended while being made");
  }
  if (wait_byte(ch.ready_r.get(), 60000) != 1) return child_error("the container's process ended while being made");
  if (!undo.host_root.empty()) {  // its mounts are made: recorded for delete
    st.host_mounts = new_mounts(undo.before, mounts_below(c.root));
    TRY(save_bundle_state(o.root, st));
  }
  if (!o.pid_file.empty()) TRY_CTX(cas::write_file_atomic(o.pid_file, std::to_string(pid), false), "--pid-file");
  undo.done = true;
  return static_cast<pid_t>(pid);
}

Status bundle_start(const std::string& root, const std::string& id, const Warn& warn) {
  BundleState st = TRY(load_bundle_state(root, id));
  std::string status = bundle_status(root, st);
  if (status != "created")
    return make_error(ErrorCode::conflict, "cannot start a container that is " + status + " (" + id + ")");
  std::string fifo = exec_fifo_path(root, id);
  int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return make_error(ErrorCode::not_found, "container \"" + id + "\": container not running");
  UniqueFd f(fd);
  if (::write(f.get(), "s", 1) != 1) return sys_error("start " + id);
  ::unlink(fifo.c_str());
  // The spec: a poststart hook that fails is a warning; the container runs on.
  run_state_hooks(st, &BundleHooks::poststart, "poststart", "running", st.pid, warn);
  return {};
}

Status bundle_kill(const std::string& root, const std::string& id, const std::string& signal, bool all) {
  BundleState st = TRY(load_bundle_state(root, id));
  int sig = signal_from_name(signal.empty() ? "SIGTERM" : signal);
  if (sig < 0) return make_error(ErrorCode::invalid_argument, "unknown signal \"" + signal + "\"");
  if (all && !st.cgroups.empty()) {
    for (pid_t p : pids_of(st)) ::kill(p, sig);
    return {};
  }
  UniqueFd pidfd = TRY(open_process(st));
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, 0) < 0) {
    if (errno == ESRCH) return make_error(ErrorCode::not_found, "container \"" + id + "\": no such process");
    return sys_error("kill " + id);
  }
  return {};
}

Status bundle_delete(const std::string& root, const std::string& id, bool force, const Warn& warn) {
  BundleState st = TRY(load_bundle_state(root, id));
  std::string status = bundle_status(root, st);
  if ((status == "running" || status == "paused") && !force)
    return make_error(ErrorCode::conflict, "cannot delete container " + id + " that is not stopped: " + status);
  if (status != "stopped") {  // created (runc deletes those too) or forced
    if (auto pidfd = open_process(st)) {
      ::syscall(SYS_pidfd_send_signal, pidfd->get(), SIGKILL, nullptr, 0);
      struct pollfd p = {pidfd->get(), POLLIN, 0};
      ::poll(&p, 1, 10000);
    }
  }
  if (auto left = unmount_host_mounts(st.rootfs, st.host_mounts); !left)
    warn("container " + id + ": " + left.error().what());
  remove_bundle_cgroups(st.cgroups);
  run_state_hooks(st, &BundleHooks::poststop, "poststop", "stopped", 0, warn);  // a failure is a warning
  TRY(remove_tree(bundle_state_dir(root, id)));
  return {};
}

Status bundle_pause(const std::string& root, const std::string& id) {
  BundleState st = TRY(load_bundle_state(root, id));
  if (bundle_status(root, st) != "running")
    return make_error(ErrorCode::conflict, "container \"" + id + "\": container not running");
  return freeze_bundle_cgroup(st.cgroups, true);
}

Status bundle_resume(const std::string& root, const std::string& id) {
  BundleState st = TRY(load_bundle_state(root, id));
  if (bundle_status(root, st) != "paused")
    return make_error(ErrorCode::conflict, "container \"" + id + "\": container not paused");
  return freeze_bundle_cgroup(st.cgroups, false);
}

Status bundle_update(const std::string& root, const std::string& id, const BundleResources& r) {
  BundleState st = TRY(load_bundle_state(root, id));
  std::string status = bundle_status(root, st);
  if (status == "stopped") return make_error(ErrorCode::conflict, "container \"" + id + "\": container not running");
  size_t had = st.cgroups.size();
  auto applied = apply_bundle_resources(st.cgroup_path, r, st.cgroups);
  if (st.cgroups.size() != had) TRY(save_bundle_state(root, st));  // a v1 directory was made: delete removes it
  return applied;
}

Result<std::vector<pid_t>> bundle_pids(const std::string& root, const std::string& id) {
  return pids_of(TRY(load_bundle_state(root, id)));
}

Result<int> bundle_run(const CreateOptions& o, bool detach, const Warn& warn) {
  CreateOptions co = o;
  co.subreaper = !detach;
  pid_t pid = TRY(bundle_create(co));
  if (auto s = bundle_start(o.root, o.id, warn); !s) {
    (void)bundle_delete(o.root, o.id, true, warn);
    return std::move(s).error();
  }
  if (detach) return 0;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  (void)bundle_delete(o.root, o.id, true, warn);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace kiln::runtime
