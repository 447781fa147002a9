// kiln run: a disposable, read-only container from an image in the store.
#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cctype>
#include <iostream>
#include <optional>

#include "cas/digest.h"
#include "cli/command.h"
#include "oci/distribution.h"
#include "runtime/container.h"
#include "runtime/options.h"
#include "runtime/process_config.h"
#include "runtime/seccomp_cache.h"
#include "runtime/signals.h"
#include "runtime/start_ahead.h"

namespace kiln::cli {

namespace {

struct RunFlags {
  std::string image;
  std::vector<std::string> cmd;
  std::optional<std::string> entrypoint;
  std::vector<std::string> env, env_files, volumes, mounts, tmpfs, cap_add, cap_drop, security_opts, ulimits;
  std::string workdir, user, hostname, name, network = "none", memory, pull = "missing";
  int64_t pids_limit = 0;
  double cpus = 0;
  bool init = false, interactive = false, tty = false, detach = false, rm = false;
};

/// 64 hex of the kernel's randomness (getrandom(2); std::random_device probed the CPU with cpuid first,
/// which traps to the hypervisor on a VM), with the pid and time mixed in should it fail.
std::string random_id() {
  unsigned char bytes[32] = {};
  ssize_t n = ::getrandom(bytes, sizeof bytes, 0);
  std::string seed(reinterpret_cast<const char*>(bytes), sizeof bytes);
  if (n != static_cast<ssize_t>(sizeof bytes)) seed += std::to_string(::getpid()) + std::to_string(::time(nullptr));
  return cas::sha256_of(seed).hex();
}

/// docker's container name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (also keeps names usable as file names).
bool valid_container_name(const std::string& n) {
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (n.size() < 2 || n.size() > 128 || !alnum(n[0])) return false;
  for (char c : n)
    if (!alnum(c) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

/// What the flags alone decide, checked before the image is looked up (as docker does): enough for the start's
/// first steps (runtime/start_ahead.h) to begin while the image is resolved.
Result<runtime::ContainerSpec> spec_from_flags(const RunFlags& f, const std::string& store_root) {
  runtime::ContainerSpec spec;
  spec.id = random_id();
  spec.seccomp_cache = runtime::seccomp_cache_dir(store_root);
  if (!f.name.empty() && !valid_container_name(f.name))
    return make_error(ErrorCode::invalid_argument,
                      "invalid container name \"" + f.name + "\": use [a-zA-Z0-9][a-zA-Z0-9_.-]+, as docker does");
  spec.name = f.name.empty() ? "kiln-" + spec.id.substr(0, 12) : f.name;
  spec.image = f.image;
  spec.hostname = f.hostname.empty() ? spec.id.substr(0, 12) : f.hostname;
  if (f.network == "host")
    spec.network = runtime::Network::host;
  else if (f.network != "none")
    return make_error(ErrorCode::invalid_argument,
                      "unsupported --network \"" + f.network + "\": use none (default) or host");
  for (const auto& v : f.volumes) spec.mounts.push_back(TRY(runtime::parse_volume(v)));
  for (const auto& m : f.mounts) spec.mounts.push_back(TRY(runtime::parse_mount(m)));
  for (const auto& t : f.tmpfs) spec.mounts.push_back(TRY(runtime::parse_tmpfs(t)));
  spec.cap_add = f.cap_add;
  spec.cap_drop = f.cap_drop;
  for (const auto& so : f.security_opts) {
    if (so.rfind("seccomp=", 0) == 0 || so.rfind("seccomp:", 0) == 0)
      spec.seccomp_profile = so.substr(8);
    else if (so == "no-new-privileges" || so == "no-new-privileges:true" || so == "no-new-privileges=true")
      continue;
    else
      return make_error(ErrorCode::invalid_argument,
                        "unsupported --security-opt \"" + so + "\": use seccomp=unconfined|PROFILE.json");
  }
  // docker's default: nofile 1048576 unless the host cannot go that high; keep the host's otherwise.
  for (const auto& u : f.ulimits) spec.rlimits.push_back(TRY(runtime::parse_ulimit(u)));
  if (!f.memory.empty()) spec.memory_bytes = TRY(runtime::parse_bytes(f.memory));
  if (f.pids_limit < 0 && f.pids_limit != -1) return make_error(ErrorCode::invalid_argument, "invalid --pids-limit");
  spec.pids_limit = f.pids_limit > 0 ? f.pids_limit : 0;
  if (f.cpus < 0) return make_error(ErrorCode::invalid_argument, "invalid --cpus: must be positive");
  spec.cpus = f.cpus;
  spec.init = f.init;
  spec.tty = f.tty;
  spec.interactive = f.interactive;
  spec.detached = f.detach;
  return spec;
}

/// The image's part: resolved (pulled when missing) and unpacked, its config under the flags' overrides.
Status add_image(runtime::ContainerSpec& spec, oci::ImageStore& images, const RunFlags& f) {
  oci::TransferOptions topts;  // an absent image is pulled with its progress on stderr, as docker run does
  topts.progress = oci::Progress::mode_for(2);
  auto img = TRY(oci::resolve_or_pull(images, f.image, f.pull, topts, std::cerr));
  runtime::ProcessOverrides o;
  o.entrypoint = f.entrypoint;
  o.cmd = f.cmd;
  for (const auto& file : f.env_files) {
    std::string text = TRY(read_file(file));
    for (auto& e : TRY(runtime::parse_env_file(text, file))) o.env.push_back(e);
  }
  o.env.insert(o.env.end(), f.env.begin(), f.env.end());
  spec.args = TRY(runtime::resolve_args(img.config.config, o));
  spec.env = runtime::resolve_env(img.config.config, o.env);
  runtime::set_env(spec.env, "HOSTNAME", spec.hostname);
  if (f.tty && !runtime::get_env(spec.env, "TERM")) runtime::set_env(spec.env, "TERM", "xterm");
  spec.cwd = !f.workdir.empty()                      ? f.workdir
             : img.config.config.working_dir.empty() ? "/"
                                                     : img.config.config.working_dir;
  spec.user = !f.user.empty() ? f.user : img.config.config.user;
  int sig = runtime::signal_from_name(img.config.config.stop_signal);
  spec.stop_signal = sig > 0 ? sig : SIGTERM;
  spec.layers = TRY(images.layer_roots(img));
  return {};
}

/// -d: a supervisor process keeps the container; output goes to a log beside the containers' state.
Status run_detached(runtime::ContainerSpec spec) {
  std::string logdir = runtime::containers_dir() + "/../logs";
  TRY(make_dirs(logdir, 0700));
  spec.log_path = logdir + "/" + spec.id + ".log";
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) < 0) return sys_error("pipe");
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork");
  if (pid == 0) {
    ::close(ready[0]);
    ::setsid();
    int devnull = ::open("/dev/null", O_RDWR);
    int log = ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(devnull, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::close(devnull);
    ::close(log);
    spec.interactive = spec.tty = false;
    auto out = runtime::run_container(spec, [&](pid_t) {
      (void)!::write(ready[1], "ok", 2);
      ::close(ready[1]);
    });
    if (out.failed_to_start) {
      std::string msg = out.error.what();
      (void)!::write(ready[1], msg.data(), msg.size());
    }
    ::unlink(spec.log_path.c_str());
    ::_exit(out.exit_code);
  }
  ::close(ready[1]);
  std::string reply;
  char buf[512];
  ssize_t n;
  while ((n = ::read(ready[0], buf, sizeof buf)) > 0) {
    reply.append(buf, static_cast<size_t>(n));
    if (reply == "ok") break;
  }
  ::close(ready[0]);
  if (reply != "ok") return make_error(ErrorCode::generic, reply.empty() ? "the container failed to start" : reply);
  std::cout << spec.id << "\n";
  return {};
}

Status run_cmd(Context& ctx, const RunFlags& f) {
  ctx.exit_code = runtime::kExitRuntime;  // until the container runs
  auto store = TRY(ctx.store());
  auto spec = TRY(spec_from_flags(f, store.root()));
  // The state file, cgroups and network namespace are made on a side thread while the image is resolved
  // (runtime/start_ahead.h); not for -d, which forks.
  std::optional<runtime::StartAhead> ahead;
  if (!f.detach) ahead.emplace(spec);
  oci::ImageStore images(store);
  {
    // The store's writer lock is held while the image is resolved, pulled and unpacked (so gc cannot sweep a
    // tree being extracted), and released before the container runs.
    auto lock = TRY(store.writer_lock());
    TRY(add_image(spec, images, f));
  }
  if (f.detach) {
    TRY(run_detached(std::move(spec)));
    ctx.exit_code = 0;
    return {};
  }
  spec.ahead = &*ahead;
  auto out = runtime::run_container(spec);
  ctx.exit_code = out.exit_code;
  if (out.failed_to_start) return out.error;
  return {};
}

}  // namespace

void register_run_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<RunFlags>();
  auto* run = app.add_subcommand("run", "Run a command in a new disposable, read-only container");
  run->set_help_flag("--help", "show this help");  // -h is --hostname, as in docker
  run->add_option("-e,--env", f->env, "set an environment variable (KEY=VALUE, or KEY to pass the host's)");
  run->add_option("--env-file", f->env_files, "read environment variables from a file");
  run->add_option("--entrypoint", f->entrypoint, "override the image's entrypoint");
  run->add_option("-w,--workdir", f->workdir, "working directory inside the container");
  run->add_option("-u,--user", f->user, "user[:group] (names from the image's /etc/passwd and /etc/group)");
  run->add_option("-v,--volume", f->volumes, "bind mount HOST:CONTAINER[:ro]");
  run->add_option("--mount", f->mounts, "type=bind|tmpfs,source=…,target=…[,readonly]");
  run->add_option("--tmpfs", f->tmpfs, "writable tmpfs PATH[:size=…,mode=…]");
  run->add_option("--cap-add", f->cap_add, "add a capability");
  run->add_option("--cap-drop", f->cap_drop, "drop a capability");
  run->add_option("--security-opt", f->security_opts, "seccomp=unconfined|PROFILE.json");
  run->add_option("--ulimit", f->ulimits, "NAME=SOFT[:HARD]");
  run->add_option("-m,--memory", f->memory, "memory limit (e.g. 64m)");
  run->add_option("--pids-limit", f->pids_limit, "maximum number of processes");
  run->add_option("--cpus", f->cpus, "CPU quota in cores (e.g. 0.5)");
  run->add_option("-h,--hostname", f->hostname, "container hostname");
  run->add_option("--name", f->name, "container name");
  run->add_option("--network,--net", f->network, "none (default: loopback only) or host");
  run->add_flag("--init", f->init, "run a tiny reaper as pid 1");
  run->add_flag("-i,--interactive", f->interactive, "keep standard input open");
  run->add_flag("-t,--tty", f->tty, "allocate a pseudo-terminal");
  run->add_flag("-d,--detach", f->detach, "run in the background and print the container ID");
  run->add_option("--pull", f->pull, "pull the image: missing (default), always, never");
  run->add_flag("--rm", f->rm, "accepted for docker compatibility: kiln containers are always removed on exit");
  run->add_option("IMAGE", f->image, "image reference or ID, then the command and its arguments")->required();
  for (auto* opt : run->get_options())
    if (opt->get_items_expected_max() > 1) opt->allow_extra_args(false);  // -e A IMAGE: IMAGE is not a second -e
  run->callback([&ctx, f] {
    f->cmd = ctx.trailing;  // main keeps the command after the image from CLI11 (split_at_target)
    ctx.action = [&ctx, f] { return run_cmd(ctx, *f); };
  });
}

}  // namespace kiln::cli
