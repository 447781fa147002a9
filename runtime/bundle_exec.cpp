// kiln-runtime exec.
#include "runtime/bundle_exec.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cas/store.h"
#include "common/fd.h"
#include "common/number.h"
#include "runtime/bundle_config.h"
#include "runtime/bundle_lifecycle.h"
#include "runtime/bundle_process.h"
#include "runtime/bundle_state.h"
#include "runtime/launcher.h"
#include "runtime/process_config.h"
#include "runtime/seccomp.h"

namespace kiln::runtime {

namespace {

/// The container's namespaces that are not this process's own, user first and mount last (the order setns
/// needs), opened while its pid 1 is known alive.
Result<std::vector<std::pair<UniqueFd, int>>> container_namespaces(pid_t pid, const std::string& id) {
  std::vector<std::pair<UniqueFd, int>> out;
  for (auto [name, flag] : std::initializer_list<std::pair<const char*, int>>{{"user", CLONE_NEWUSER},
                                                                              {"ipc", CLONE_NEWIPC},
                                                                              {"uts", CLONE_NEWUTS},
                                                                              {"net", CLONE_NEWNET},
                                                                              {"pid", CLONE_NEWPID},
                                                                              {"cgroup", CLONE_NEWCGROUP},
                                                                              {"time", CLONE_NEWTIME},
                                                                              {"mnt", CLONE_NEWNS}}) {
    std::string theirs = "/proc/" + std::to_string(pid) + "/ns/" + name;
    struct stat a, b;
    if (::stat(theirs.c_str(), &a) < 0)
      return make_error(ErrorCode::not_found, "container \"" + id + "\": container not running");
    if (::stat((std::string("/proc/self/ns/") + name).c_str(), &b) == 0 && a.st_ino == b.st_ino) continue;
    out.emplace_back(TRY(open_fd(theirs, O_RDONLY | O_CLOEXEC)), flag);
  }
  return out;
}

/// The exec'd process as the options (or --process) describe it, over the container's config.
Result<BundleConfig> exec_config(const ExecOptions& o, const BundleState& st) {
  BundleConfig c = TRY(load_bundle_config(st.bundle));
  if (!o.process_file.empty()) {
    std::string text = TRY_CTX(read_file(o.process_file, 1u << 20), "--process");
    return with_process(std::move(c), text, o.process_file);
  }
  if (o.args.empty()) return make_error(ErrorCode::invalid_argument, "exec needs a command (or --process FILE)");
  c.args = o.args;
  for (const auto& e : o.env) {
    auto eq = e.find('=');
    set_env(c.env, e.substr(0, eq), eq == std::string::npos ? "" : e.substr(eq + 1));
  }
  if (!o.cwd.empty()) c.cwd = o.cwd;
  if (!o.user.empty()) {
    auto colon = o.user.find(':');
    auto uid = parse_uint(o.user.substr(0, colon), kMaxId);
    auto gid = colon == std::string::npos ? uid : parse_uint(o.user.substr(colon + 1), kMaxId);
    if (!uid || !gid) return make_error(ErrorCode::invalid_argument, "--user " + o.user + ": use uid[:gid]");
    c.uid = static_cast<uid_t>(*uid);
    c.gid = static_cast<gid_t>(*gid);
  }
  c.terminal = o.tty;
  return c;
}

}  // namespace

Result<int> bundle_exec(const ExecOptions& o) {
  BundleState st = TRY(load_bundle_state(o.root, o.id));
  std::string now = bundle_status(o.root, st);
  if (now != "running")
    return make_error(ErrorCode::conflict, "container \"" + o.id + "\": cannot exec in a " + now + " container");
  BundleConfig c = TRY(exec_config(o, st));
  if (c.terminal && o.console_socket.empty())
    return make_error(ErrorCode::invalid_argument, "exec with a terminal needs --console-socket");
  auto seccomp = TRY(bundle_seccomp(c, st.bundle + "/config.json", bundle_seccomp_cache_dir(o.root)));
  auto ns = TRY(container_namespaces(st.pid, o.id));
  // A container without a mount namespace of its own is chrooted into its root: so is what runs in it.
  UniqueFd chroot_to;
  if (!c.has_namespace(CLONE_NEWNS))
    chroot_to = TRY_CTX(open_fd("/proc/" + std::to_string(st.pid) + "/root", O_PATH | O_DIRECTORY | O_CLOEXEC),
                        "container \"" + o.id + "\"");
  if (!bundle_process_alive(st))
    return make_error(ErrorCode::not_found, "container \"" + o.id + "\": container not running");
  UniqueFd console;
  if (c.terminal) console = TRY(connect_console(o.console_socket));
  int sync[2], err[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0 || ::pipe2(err, O_CLOEXEC) < 0)
    return sys_error("exec: socketpair");
  UniqueFd sync_p(sync[0]), sync_c(sync[1]), err_r(err[0]), err_w(err[1]);
  LaunchPlan plan = bundle_launch_plan(c, seccomp ? &*seccomp : nullptr, o.preserve_fds);
  if (!o.detach) ::prctl(PR_SET_CHILD_SUBREAPER, 1);  // the process is waited for here once its parent exits
  pid_t a = ::fork();
  if (a < 0) return sys_error("fork");
  if (a == 0) {
    int efd = err_w.get();
    for (auto& [fd, flag] : ns)
      if (::setns(fd.get(), flag) < 0) child_fail(efd, 125, "join the container's namespaces", errno);
    if (chroot_to.get() >= 0 && (::fchdir(chroot_to.get()) < 0 || ::chroot(".") < 0))
      child_fail(efd, 125, "chroot into the container's root", errno);
    pid_t b = ::fork();  // setns(pid) takes effect for children
    if (b < 0) child_fail(efd, 125, "fork", errno);
    if (b == 0) {
      char go;
      if (::read(sync_c.get(), &go, 1) != 1) ::_exit(125);
      apply_bundle_rlimits(c, efd);
      if (c.terminal)
        if (int e = make_container_tty(console.get())) child_fail(efd, 125, "make the terminal", e);
      launch(plan, efd);
    }
    int32_t pid = b;
    ::_exit(::write(sync_c.get(), &pid, sizeof pid) == sizeof pid ? 0 : 125);
  }
  sync_c.reset();
  err_w.reset();
  console.reset();
  int32_t pid = 0;
  bool got = read_exact(sync_p.get(), &pid, sizeof pid);
  ::waitpid(a, nullptr, 0);
  auto failed = [&]() -> Error {
    ChildFailure f{};
    if (read_exact(err_r.get(), &f, sizeof f))
      return make_error(ErrorCode::generic, "exec in " + o.id + ": " + f.message);
    return make_error(ErrorCode::generic, "exec in " + o.id + ": the process ended before it ran");
  };
  if (!got || pid <= 0) return failed();
  for (const auto& cg : st.cgroups)
    if (auto procs = open_fd(cg + "/cgroup.procs", O_WRONLY | O_CLOEXEC))
      (void)write_all(procs->get(), std::to_string(pid));
  if (::write(sync_p.get(), "g", 1) != 1) return failed();
  ChildFailure f{};
  if (read_exact(err_r.get(), &f, sizeof f)) {  // the pipe closes at exec: a message means it never ran
    ::waitpid(pid, nullptr, 0);
    return make_error(ErrorCode::generic, "exec in " + o.id + ": " + f.message);
  }
  if (!o.pid_file.empty()) TRY_CTX(cas::write_file_atomic(o.pid_file, std::to_string(pid), false), "--pid-file");
  if (o.detach) return 0;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace kiln::runtime
