// kiln-runtime create → start → kill → delete.
#include "runtime/bundle_lifecycle.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
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
#include "runtime/bundle_config.h"
#include "runtime/bundle_hooks.h"
#include "runtime/bundle_process.h"
#include "runtime/bundle_rootfs.h"
#include "runtime/bundle_state.h"
#include "runtime/devices.h"
#include "runtime/launcher.h"
#include "runtime/seccomp.h"
#include "runtime/signals.h"
#include "runtime/state.h"

namespace kiln::runtime {

namespace {

/// Where cgroup v2 is mounted: /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid); "" for none.
std::string v2_root() {
  for (const char* d : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"})
    if (path_exists(std::string(d) + "/cgroup.controllers")) return d;
  return "";
}

/// mkdir -p of rel below base; with enable, the limit controllers given to each level's children on the way.
Result<std::string> make_cgroup_dir(const std::string& base, const std::string& rel, bool enable) {
  std::string dir = base;
  size_t pos = 0;
  while (pos <= rel.size()) {
    size_t next = rel.find('/', pos);
    std::string comp = rel.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    if (enable)  // a no-op where they are on already; a controller v1 holds is refused, and its limit goes there
      if (auto fd = open_fd(dir + "/cgroup.subtree_control", O_WRONLY | O_CLOEXEC))
        for (const char* ctl : {"+memory", "+pids", "+cpu"}) (void)!::write(fd->get(), ctl, std::strlen(ctl));
    if (!comp.empty()) {
      std::string parent = dir;
      dir += "/" + comp;
      if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) return sys_error("create cgroup " + dir);
      // A v1 cpuset takes no process until it has cpus and mems: a new one starts with its parent's.
      for (const char* f : {"cpuset.cpus", "cpuset.mems"})
        if (path_exists(parent + "/" + f))
          if (auto cur = read_file(dir + "/" + f, 4096); cur && (cur->empty() || *cur == "\n"))
            if (auto from = read_file(parent + "/" + f, 4096))
              if (auto fd = open_fd(dir + "/" + f, O_WRONLY | O_CLOEXEC)) (void)write_all(fd->get(), *from);
    }
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return dir;
}

/// The container's cgroups: linux.cgroupsPath (else kiln-runtime/<id>) in the v2 hierarchy, holding the device
/// allow list, and each limit of linux.resources in v2 where its controller is there, else in the v1 hierarchy
/// of that controller (hybrid hosts). The v2 directory comes first.
Result<std::vector<std::string>> make_cgroups(const BundleConfig& c, const std::string& id,
                                              std::vector<std::string>& made) {
  std::string rel = c.cgroups_path.empty() ? "kiln-runtime/" + id : c.cgroups_path;
  while (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
  if (rel.find(':') != std::string::npos)
    return make_error(ErrorCode::unsupported, "linux.cgroupsPath \"" + c.cgroups_path +
                                                  "\" is a systemd slice: kiln-runtime has no --systemd-cgroup");
  std::string v2 = v2_root();
  if (!v2.empty()) {
    std::string dir = TRY(make_cgroup_dir(v2, rel, true));
    made.push_back(dir);
    UniqueFd cg = TRY(open_fd(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    TRY_CTX(ensure_device_filter(cg.get()), "cgroup " + dir);
  }
  // Each limit: its v2 file and value, else its v1 controller, file and value ("" where one side has none).
  struct Limit {
    std::string v2_file, v2_value, v1_controller, v1_file, v1_value;
  };
  std::vector<Limit> limits;
  auto n = [](int64_t v) { return std::to_string(v); };
  if (c.memory_limit > 0) limits.push_back({"memory.max", n(c.memory_limit), "memory", "memory.limit_in_bytes", n(c.memory_limit)});
  if (c.pids_limit > 0) limits.push_back({"pids.max", n(c.pids_limit), "pids", "pids.max", n(c.pids_limit)});
  if (c.cpu_shares > 0)  // v2's weight from v1's shares, as runc converts it
    limits.push_back({"cpu.weight", n(1 + ((std::max<int64_t>(c.cpu_shares, 2) - 2) * 9999) / 262142), "cpu",
                      "cpu.shares", n(c.cpu_shares)});
  if (c.cpu_period > 0) limits.push_back({"", "", "cpu", "cpu.cfs_period_us", n(c.cpu_period)});
  if (c.cpu_quota != 0)
    limits.push_back({"cpu.max", (c.cpu_quota > 0 ? n(c.cpu_quota) : "max") + " " + n(c.cpu_period ? c.cpu_period : 100000),
                      "cpu", "cpu.cfs_quota_us", n(c.cpu_quota)});
  if (c.cpu_rt_period > 0) limits.push_back({"", "", "cpu", "cpu.rt_period_us", n(c.cpu_rt_period)});
  if (c.cpu_rt_runtime != 0) limits.push_back({"", "", "cpu", "cpu.rt_runtime_us", n(c.cpu_rt_runtime)});
  if (!c.cpuset_cpus.empty()) limits.push_back({"cpuset.cpus", c.cpuset_cpus, "cpuset", "cpuset.cpus", c.cpuset_cpus});
  if (!c.cpuset_mems.empty()) limits.push_back({"cpuset.mems", c.cpuset_mems, "cpuset", "cpuset.mems", c.cpuset_mems});
  for (const auto& l : limits) {
    if (!v2.empty() && !l.v2_file.empty() && path_exists(made[0] + "/" + l.v2_file)) {
      UniqueFd fd = TRY_CTX(open_fd(made[0] + "/" + l.v2_file, O_WRONLY | O_CLOEXEC), "linux.resources");
      TRY_CTX(write_all(fd.get(), l.v2_value), "linux.resources: " + l.v2_file + "=" + l.v2_value);
      continue;
    }
    std::string base = "/sys/fs/cgroup/" + l.v1_controller;
    if (!path_exists(base + "/cgroup.procs"))
      return make_error(ErrorCode::unsupported, "linux.resources: this host has no " + l.v1_controller + " controller");
    std::string dir = TRY(make_cgroup_dir(base, rel, false));
    if (std::find(made.begin(), made.end(), dir) == made.end()) made.push_back(dir);
    UniqueFd fd = TRY_CTX(open_fd(dir + "/" + l.v1_file, O_WRONLY | O_CLOEXEC), "linux.resources");
    TRY_CTX(write_all(fd.get(), l.v1_value), "linux.resources: " + l.v1_file + "=" + l.v1_value);
  }
  return made;
}

void remove_cgroups(const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs)
    for (int i = 0; i < 100 && ::rmdir(dir.c_str()) < 0 && errno == EBUSY; ++i) ::usleep(10000);
}

/// In the container's process (B), from its fork on: namespaces that wait for the cgroup, the root filesystem,
/// the process's limits and terminal, then launch (which waits on the exec fifo). Never returns.
[[noreturn]] void container_process(const BundleConfig& c, const HookState& hs, const LaunchPlan& plan, int sync_fd,
                                    int error_fd, int console_fd) {
  char go;
  if (::read(sync_fd, &go, 1) != 1) ::_exit(125);  // create gave up
  for (const auto& n : c.namespaces) {  // after the move into the cgroup, so that is its root
    if (n.flag != CLONE_NEWCGROUP) continue;
    if (n.path.empty()) {
      if (::unshare(CLONE_NEWCGROUP) < 0) child_fail(error_fd, 125, "new cgroup namespace", errno);
      continue;
    }
    int fd = ::open(n.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWCGROUP) < 0)
      child_fail(error_fd, 125, "join cgroup namespace " + n.path, errno);
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
  if (c.umask) ::umask(*c.umask);
  if (c.terminal)
    if (int e = make_container_tty(console_fd)) child_fail(error_fd, 125, "make the container's terminal", e);
  launch(plan, error_fd);
}

/// A: joins the namespaces the config names by path, makes the new ones, forks B (the container's process,
/// pid 1 of a new pid namespace) and reports B's host pid. Never returns.
[[noreturn]] void namespace_parent(const BundleConfig& c, const HookState& hs, const LaunchPlan& plan, int sync_fd,
                                   int error_fd, int console_fd) {
  int unshare_flags = 0;
  bool new_user = false;
  struct Join {
    int fd, flag;
    std::string path;
  };
  std::vector<Join> joins;
  for (const auto& n : c.namespaces) {
    if (n.flag == CLONE_NEWCGROUP) continue;  // B, once in its cgroup
    if (n.path.empty()) {
      if (n.flag == CLONE_NEWUSER)
        new_user = true;
      else
        unshare_flags |= n.flag;
      continue;
    }
    int fd = ::open(n.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) child_fail(error_fd, 125, "open namespace " + n.path, errno);
    joins.push_back(Join{fd, n.flag, n.path});
  }
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
  if (::unshare(unshare_flags) < 0) child_fail(error_fd, 125, "make namespaces", errno);
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
  bool done = false;
  ~CreateCleanup() {
    if (done) return;
    if (pid > 0) ::kill(pid, SIGKILL);
    if (pid > 0)
      for (int i = 0; i < 200 && ::kill(pid, 0) == 0; ++i) ::usleep(5000);
    remove_cgroups(cgroups);
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
  std::vector<pid_t> out;
  if (!st.cgroups.empty())
    if (auto text = read_file(st.cgroups[0] + "/cgroup.procs", 1u << 20)) {
      for (size_t pos = 0; pos < text->size();) {
        size_t nl = text->find('\n', pos);
        if (auto p = parse_uint(text->substr(pos, nl - pos), INT32_MAX)) out.push_back(static_cast<pid_t>(*p));
        if (nl == std::string::npos) break;
        pos = nl + 1;
      }
      return out;
    }
  if (bundle_process_alive(st)) out.push_back(st.pid);
  return out;
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
void run_state_hooks(const BundleState& st, std::vector<Hook> BundleHooks::*kind, const char* name,
                     const char* status, pid_t pid, const Warn& warn) {
  if (st.hooks_json.empty()) return;
  auto hooks = parse_bundle_hooks(st.hooks_json, "container " + st.id + " state");
  if (!hooks) return warn(hooks.error().what());
  if (auto ran = run_hooks((*hooks).*kind, name, hook_state_json({st.id, st.bundle, st.annotations}, status, pid)); !ran)
    warn("container " + st.id + ": " + ran.error().what());
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
  auto seccomp = TRY(bundle_seccomp(c, o.bundle + "/config.json"));
  TRY(make_cgroups(c, o.id, undo.cgroups));
  UniqueFd console;
  if (c.terminal) console = TRY(connect_console(o.console_socket));
  UniqueFd fifo_fd = TRY(open_fd(fifo, O_RDWR | O_CLOEXEC));  // read-write: never an EOF before `start` writes
  int sync[2], err[2], ready[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0) return sys_error("socketpair");
  UniqueFd sync_p(sync[0]), sync_c(sync[1]);
  if (::pipe2(err, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd err_r(err[0]), err_w(err[1]);
  if (::pipe2(ready, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd ready_r(ready[0]), ready_w(ready[1]);

  LaunchPlan plan = bundle_launch_plan(c, seccomp ? &*seccomp : nullptr, o.preserve_fds);
  plan.start_fifo_fd = fifo_fd.get();
  plan.ready_fd = ready_w.get();
  HookState hs{o.id, c.bundle, c.annotations};
  if (!c.hooks.start_container.empty())  // in the container's process, which has its own copy of c
    plan.after_start = [&c, &hs] {
      return run_hooks(c.hooks.start_container, "startContainer", hook_state_json(hs, "created", ::getpid()));
    };

  if (o.subreaper) ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  pid_t a = ::fork();
  if (a < 0) return sys_error("fork");
  if (a == 0) namespace_parent(c, hs, plan, sync_c.get(), err_w.get(), console.get());
  sync_c.reset();
  err_w.reset();
  ready_w.reset();
  bool new_user = false;
  for (const auto& n : c.namespaces)
    if (n.flag == CLONE_NEWUSER && n.path.empty()) new_user = true;
  if (new_user) {  // A made its user namespace: its maps are written from out here
    char u = 0;
    if (!read_exact(sync_p.get(), &u, 1) || u != 'u') {
      ::waitpid(a, nullptr, 0);
      ChildFailure f{};
      std::string msg = read_exact(err_r.get(), &f, sizeof f) ? std::string(f.message) : "the namespace process ended";
      return make_error(ErrorCode::generic, "create " + o.id + ": " + msg);
    }
    auto map_text = [](const std::vector<IdMapping>& ms) {
      std::string t;
      for (const auto& m : ms)
        t += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
      return t;
    };
    for (auto [file, ms] : {std::pair{"uid_map", &c.uid_mappings}, std::pair{"gid_map", &c.gid_mappings}}) {
      std::string path = "/proc/" + std::to_string(a) + "/" + file;
      auto fd = open_fd(path, O_WRONLY | O_CLOEXEC);
      if (!fd || !write_all(fd->get(), map_text(*ms))) {
        ::kill(a, SIGKILL);
        ::waitpid(a, nullptr, 0);
        return make_error(ErrorCode::invalid_argument,
                          std::string("linux.") + (file[0] == 'u' ? "uidMappings" : "gidMappings") +
                              ": the kernel refused the mapping");
      }
    }
    if (::write(sync_p.get(), "m", 1) != 1) return sys_error("create " + o.id);
  }
  int32_t pid = 0;
  bool got_pid = read_exact(sync_p.get(), &pid, sizeof pid);
  int status = 0;
  ::waitpid(a, &status, 0);
  auto child_error = [&](const std::string& fallback) -> Error {
    ChildFailure f{};
    if (read_exact(err_r.get(), &f, sizeof f))
      return make_error(ErrorCode::generic, "create " + o.id + ": " + std::string(f.message));
    return make_error(ErrorCode::generic, "create " + o.id + ": " + fallback);
  };
  if (!got_pid || pid <= 0) return child_error("the namespace process ended before the container's process started");
  undo.pid = pid;
  for (const auto& cg : undo.cgroups) {
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
  st.annotations = c.annotations;
  st.hooks_json = c.hooks_json;
  auto start = start_time_of(pid);
  if (!start) return child_error("the container's process ended while being made");
  st.pid_start = *start;
  TRY(save_bundle_state(o.root, st));
  if (::write(sync_p.get(), "g", 1) != 1) return child_error("the container's process ended while being made");
  if (c.hooks.runs_at_create()) {  // the container's mounts are made, pivot_root waits for these
    char h = 0;
    if (!read_exact(sync_p.get(), &h, 1) || h != 'h') return child_error("the container's process ended while being made");
    std::string state = hook_state_json(hs, "created", pid);
    TRY_CTX(run_hooks(c.hooks.prestart, "prestart", state), "create " + o.id);
    TRY_CTX(run_hooks(c.hooks.create_runtime, "createRuntime", state), "create " + o.id);
    if (::write(sync_p.get(), "r", 1) != 1) return child_error("the container's process ended while being made");
  }
  if (wait_byte(ready_r.get(), 60000) != 1) return child_error("the container's process ended while being made");
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
  if (status == "running" && !force)
    return make_error(ErrorCode::conflict, "cannot delete container " + id + " that is not stopped: running");
  if (status != "stopped") {  // created (runc deletes those too) or forced
    if (auto pidfd = open_process(st)) {
      ::syscall(SYS_pidfd_send_signal, pidfd->get(), SIGKILL, nullptr, 0);
      struct pollfd p = {pidfd->get(), POLLIN, 0};
      ::poll(&p, 1, 10000);
    }
  }
  remove_cgroups(st.cgroups);
  run_state_hooks(st, &BundleHooks::poststop, "poststop", "stopped", 0, warn);  // a failure is a warning
  TRY(remove_tree(bundle_state_dir(root, id)));
  return {};
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
