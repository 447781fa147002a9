// kiln run: a disposable, read-only container from an image in the store.
#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <optional>

#include "cas/digest.h"
#include "cli/command.h"
#include "oci/distribution.h"
#include "runtime/container.h"
#include "runtime/log_writer.h"
#include "runtime/options.h"
#include "runtime/process_config.h"
#include "runtime/seccomp_cache.h"
#include "runtime/signals.h"
#include "runtime/start_ahead.h"
#include "runtime/workdir.h"

namespace kiln::cli {

namespace {

struct RunFlags {
  std::string image;
  std::vector<std::string> cmd;
  std::optional<std::string> entrypoint;
  std::vector<std::string> env, env_files, volumes, mounts, tmpfs, cap_add, cap_drop, security_opts, ulimits;
  std::vector<std::string> add_hosts, dns, dns_search, publish;
  std::string workdir, user, hostname, name, network = "none", memory, pull = "missing";
  std::string cidfile, stop_signal, platform;
  std::vector<std::string> log_opts;
  int64_t pids_limit = 0;
  double cpus = 0;
  std::optional<int> stop_timeout;
  bool init = false, interactive = false, tty = false, detach = false, rm = false, publish_all = false;
  // Flags a user may turn off with =false: how often given, a false value counting -1 (CLI11's flag sum).
  int64_t read_only = 0, read_only_tmpfs = 0;
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

/// A memory limit as -m takes it back: 32MiB, 1GiB, else bytes.
std::string binary_size(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (u < 4 && bytes >= 1024 && bytes % 1024 == 0) bytes /= 1024, ++u;
  return std::to_string(bytes) + units[u];
}

/// podman's --read-only-tmpfs: programs that need a temporary directory work on a read-only root. A path the
/// user mounts something on keeps the user's mount.
void add_scratch_tmpfs(runtime::ContainerSpec& spec) {
  for (auto [target, options] :
       {std::pair{"/tmp", "mode=1777"}, {"/var/tmp", "mode=1777"}, {"/run", "mode=755,size=64m"}}) {
    bool taken = false;
    for (const auto& m : spec.mounts) taken = taken || m.target == target;
    if (taken) continue;
    runtime::MountSpec m;
    m.type = runtime::MountSpec::Type::tmpfs;
    m.target = target;
    m.options = options;  // nosuid and nodev always hold for a tmpfs (runtime/rootfs.cpp)
    spec.mounts.push_back(m);
  }
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
  else if (f.network == "pasta")
    spec.network = runtime::Network::pasta;
  else if (f.network != "none")
    return make_error(ErrorCode::invalid_argument,
                      "unsupported --network \"" + f.network + "\": use none (default), pasta or host");
  for (const auto& p : f.publish) {
    auto ports = TRY(runtime::parse_publish(p));
    spec.ports.insert(spec.ports.end(), ports.begin(), ports.end());
  }
  if (!spec.ports.empty() || f.publish_all) {
    // Published ports need the container's own network, connected by pasta: what -p means without a daemon.
    if (spec.network == runtime::Network::host)
      return make_error(ErrorCode::invalid_argument,
                        "-p/-P with --network host: the container already uses the host's ports (drop -p, or the "
                        "--network host)");
    spec.network = runtime::Network::pasta;
  }
  for (const auto& h : f.add_hosts) spec.extra_hosts.push_back(TRY(runtime::parse_add_host(h)));
  for (const auto& d : f.dns) spec.dns_servers.push_back(TRY(runtime::parse_dns_server(d)));
  for (const auto& d : f.dns_search) spec.dns_search.push_back(TRY(runtime::parse_dns_search(d)));
  if (!f.platform.empty() && f.platform != "linux/amd64" && f.platform != "amd64")
    return make_error(ErrorCode::unsupported, "--platform " + f.platform + ": kiln runs linux/amd64 images only");
  if (!f.stop_signal.empty()) {
    spec.stop_signal = runtime::signal_from_name(f.stop_signal);
    if (spec.stop_signal <= 0 || spec.stop_signal >= NSIG)
      return make_error(ErrorCode::invalid_argument, "invalid --stop-signal \"" + f.stop_signal + "\"");
  }
  if (f.stop_timeout) {
    if (*f.stop_timeout < 0) return make_error(ErrorCode::invalid_argument, "invalid --stop-timeout: must be >= 0");
    spec.stop_timeout = *f.stop_timeout;
  }
  for (const auto& v : f.volumes) spec.mounts.push_back(TRY(runtime::parse_volume(v)));
  for (const auto& m : f.mounts) spec.mounts.push_back(TRY(runtime::parse_mount(m)));
  for (const auto& t : f.tmpfs) spec.mounts.push_back(TRY(runtime::parse_tmpfs(t)));
  if (f.read_only < 0)
    return make_error(ErrorCode::invalid_argument,
                      "--read-only=false: a kiln container's root is always read-only (containers are replaced, "
                      "not patched); write to --tmpfs PATH, -v HOST:PATH, or the tmpfs at /tmp, /var/tmp and /run");
  if (f.read_only_tmpfs >= 0) add_scratch_tmpfs(spec);
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
  if (!f.workdir.empty() && f.workdir[0] != '/')
    return make_error(ErrorCode::invalid_argument,
                      "the working directory '" + f.workdir + "' is invalid, it needs to be an absolute path");
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
Status add_image(runtime::ContainerSpec& spec, oci::ImageStore& images, const RunFlags& f, const oci::Puller& puller) {
  oci::TransferOptions topts;  // an absent image is pulled with its progress on stderr, as docker run does
  topts.progress = oci::Progress::mode_for(2);
  topts.unpack = true;  // the run needs the layer trees next
  auto img = TRY(oci::resolve_or_pull(images, f.image, f.pull, topts, std::cerr, puller));
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
  spec.cwd = runtime::clean_path(!f.workdir.empty() ? f.workdir : img.config.config.working_dir);
  spec.user = !f.user.empty() ? f.user : img.config.config.user;
  if (f.stop_signal.empty()) {  // --stop-signal, else the image's StopSignal, else SIGTERM
    int sig = runtime::signal_from_name(img.config.config.stop_signal);
    spec.stop_signal = sig > 0 ? sig : SIGTERM;
  }
  if (f.publish_all) {  // -P: every EXPOSEd port, each on a free host port
    auto all = TRY(runtime::publish_all(img.config.config.exposed_ports));
    spec.ports.insert(spec.ports.end(), all.begin(), all.end());
  }
  TRY(runtime::choose_host_ports(spec.ports));
  spec.layers = TRY(images.layer_roots(img));
  spec.image_digest = img.entry.digest.str();
  spec.image_id = img.id().str();
  return {};
}

/// -d: a supervisor process keeps the container; output goes to a log beside the containers' state.
Status run_detached(runtime::ContainerSpec spec, const runtime::LogLimits& limits, std::optional<cas::FileLock>& lock) {
  spec.log_path = runtime::log_path_of(spec.id);
  TRY(make_dirs(spec.log_path.substr(0, spec.log_path.rfind('/')), 0700));
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) < 0) return sys_error("pipe");
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork");
  if (pid == 0) {
    spec.state_saved = [&lock] { lock.reset(); };  // this process's copy of the lock's fd
    ::close(ready[0]);
    ::setsid();
    // The container's output (and this supervisor's) goes through a pipe to a log writer that caps and rotates.
    int devnull = ::open("/dev/null", O_RDWR);
    int out[2];
    if (::pipe2(out, O_CLOEXEC) < 0) ::_exit(runtime::kExitRuntime);
    auto writer = runtime::start_log_writer(out[0], spec.log_path, limits);
    if (!writer) ::_exit(runtime::kExitRuntime);
    ::close(out[0]);
    ::dup2(devnull, 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    ::close(out[1]);
    spec.interactive = spec.tty = false;
    auto result = runtime::run_container(spec, [&](pid_t) {
      (void)!::write(ready[1], "ok", 2);
      ::close(ready[1]);
    });
    if (result.failed_to_start) {
      std::string msg = result.error.what();
      (void)!::write(ready[1], msg.data(), msg.size());
    }
    // The last write end goes: the writer drains what is left and exits; then its files are removed.
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    int status;
    ::waitpid(*writer, &status, 0);
    runtime::remove_log(spec.log_path);
    ::_exit(result.exit_code);
  }
  ::close(ready[1]);
  lock.reset();  // the supervisor's copy holds it until the state is saved
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

/// --cidfile: the container's ID in a file that must not exist yet (docker's rule: another container may be
/// using it), written before the start and removed again unless the container started.
struct CidFile {
  std::string path;
  bool keep = false;
  Status create(const std::string& p, const std::string& id) {
    UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd.get() < 0 && errno == EEXIST)
      return make_error(ErrorCode::conflict,
                        "--cidfile " + p + " exists: another container may be using it; remove it first");
    if (fd.get() < 0) return sys_error("create --cidfile " + p);
    path = p;
    return write_all(fd.get(), id);
  }
  ~CidFile() {
    if (!path.empty() && !keep) ::unlink(path.c_str());
  }
};

Status run_cmd(Context& ctx, const RunFlags& f) {
  ctx.exit_code = runtime::kExitRuntime;  // until the container runs
  auto store = TRY(ctx.store());
  auto spec = TRY(spec_from_flags(f, store.root()));
  CidFile cid;
  if (!f.cidfile.empty()) TRY(cid.create(f.cidfile, spec.id));
  // The state file, cgroups and network namespace are made on a side thread while the image is resolved
  // (runtime/start_ahead.h); not for -d, which forks.
  std::optional<runtime::StartAhead> ahead;
  if (!f.detach) ahead.emplace(spec);
  oci::ImageStore images(store);
  // The store's writer lock is held from resolving the image (so gc cannot sweep a tree being extracted) until
  // the container's state names the image (from then on gc and rmi see it in use): spec.state_saved.
  auto log_limits = TRY(runtime::parse_log_opts(f.log_opts));  // a bad --log-opt fails before any image work
  std::optional<cas::FileLock> lock = TRY(store.writer_lock());
  TRY(add_image(spec, images, f, ctx.puller));
  spec.store_root = store.root();
  spec.state_saved = [&lock] { lock.reset(); };
  if (f.detach) {
    TRY(run_detached(std::move(spec), log_limits, lock));
    cid.keep = true;
    ctx.exit_code = 0;
    return {};
  }
  spec.ahead = ahead ? &*ahead : nullptr;
  auto out = runtime::run_container(spec);
  ctx.exit_code = out.exit_code;
  if (out.oom_killed)  // docker tells it only in inspect; a killed job should say why where it ran
    std::cerr << "kiln: container " << spec.name << " was killed: out of memory (limit "
              << binary_size(spec.memory_bytes) << ")\n";
  cid.keep = !out.failed_to_start;
  if (out.failed_to_start) return out.error;
  return {};
}

}  // namespace

namespace {

/// How one of run's options binds to RunFlags, and whether it takes a value (which the flag scan needs before
/// anything is registered).
struct Binding {
  bool takes_value;
  CLI::Option* (*add)(CLI::App& run, RunFlags& f, const char* names, const char* help);
};
template <auto Member>
constexpr Binding value() {
  return {true, [](CLI::App& run, RunFlags& f, const char* names, const char* help) {
            return run.add_option(names, f.*Member, help);
          }};
}
template <auto Member>
constexpr Binding counted_flag() {
  return {false, [](CLI::App& run, RunFlags& f, const char* names, const char* help) {
            return run.add_flag_function(
                names, [&f](int64_t n) { f.*Member = n; }, help);
          }};
}
template <auto Member>
constexpr Binding flag() {
  return {false, [](CLI::App& run, RunFlags& f, const char* names, const char* help) {
            return run.add_flag(names, f.*Member, help);
          }};
}

struct RunOption {
  const char* names;  ///< as CLI11 takes them: "-e,--env"
  const char* help;
  Binding bind;
};

const RunOption kRunOptions[] = {
    {"-e,--env", "set an environment variable (KEY=VALUE, or KEY to pass the host's)", value<&RunFlags::env>()},
    {"--env-file", "read environment variables from a file", value<&RunFlags::env_files>()},
    {"--entrypoint", "override the image's entrypoint", value<&RunFlags::entrypoint>()},
    {"-w,--workdir", "working directory inside the container", value<&RunFlags::workdir>()},
    {"-u,--user", "user[:group] (names from the image's /etc/passwd and /etc/group)", value<&RunFlags::user>()},
    {"-v,--volume", "bind mount HOST:CONTAINER[:ro]", value<&RunFlags::volumes>()},
    {"--mount", "type=bind|tmpfs,source=…,target=…[,readonly]", value<&RunFlags::mounts>()},
    {"--tmpfs", "writable tmpfs PATH[:size=…,mode=…]", value<&RunFlags::tmpfs>()},
    {"--cap-add", "add a capability", value<&RunFlags::cap_add>()},
    {"--cap-drop", "drop a capability", value<&RunFlags::cap_drop>()},
    {"--security-opt", "seccomp=unconfined|PROFILE.json", value<&RunFlags::security_opts>()},
    {"--ulimit", "NAME=SOFT[:HARD]", value<&RunFlags::ulimits>()},
    {"-m,--memory", "memory limit (e.g. 64m)", value<&RunFlags::memory>()},
    {"--pids-limit", "maximum number of processes", value<&RunFlags::pids_limit>()},
    {"--cpus", "CPU quota in cores (e.g. 0.5)", value<&RunFlags::cpus>()},
    {"-h,--hostname", "container hostname", value<&RunFlags::hostname>()},
    {"--name", "container name", value<&RunFlags::name>()},
    {"--network,--net", "none (default: loopback only), pasta (the host's network through pasta) or host",
     value<&RunFlags::network>()},
    {"-p,--publish", "publish a port: [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp] (through pasta)",
     value<&RunFlags::publish>()},
    {"-P,--publish-all", "publish every EXPOSEd port on a free host port", flag<&RunFlags::publish_all>()},
    {"--add-host", "NAME:IP, an extra line of /etc/hosts", value<&RunFlags::add_hosts>()},
    {"--dns", "nameserver for /etc/resolv.conf", value<&RunFlags::dns>()},
    {"--dns-search", "search domain for /etc/resolv.conf", value<&RunFlags::dns_search>()},
    {"--log-opt", "-d's log: max-size=SIZE (default 10m), max-file=N (default 3)", value<&RunFlags::log_opts>()},
    {"--cidfile", "write the container ID to this new file", value<&RunFlags::cidfile>()},
    {"--stop-signal", "signal kiln stop sends (default: the image's StopSignal)", value<&RunFlags::stop_signal>()},
    {"--stop-timeout", "seconds kiln stop waits before SIGKILL (default 10)", value<&RunFlags::stop_timeout>()},
    {"--platform", "linux/amd64 (the only platform kiln runs)", value<&RunFlags::platform>()},
    {"--pull", "pull the image: missing (default), always, never", value<&RunFlags::pull>()},
    {"--init", "run a tiny reaper as pid 1", flag<&RunFlags::init>()},
    {"-i,--interactive", "keep standard input open", flag<&RunFlags::interactive>()},
    {"-t,--tty", "allocate a pseudo-terminal", flag<&RunFlags::tty>()},
    {"-d,--detach", "run in the background and print the container ID", flag<&RunFlags::detach>()},
    {"--rm", "accepted for docker compatibility: kiln containers are always removed on exit", flag<&RunFlags::rm>()},
    {"--read-only", "accepted for docker compatibility: a kiln container's root is always read-only",
     counted_flag<&RunFlags::read_only>()},
    {"--read-only-tmpfs", "writable tmpfs at /tmp, /var/tmp and /run (default true; =false for none)",
     counted_flag<&RunFlags::read_only_tmpfs>()},
};

/// The entry whose names include name ("-e", "--env"), or null.
const RunOption* find_run_option(std::string_view name) {
  for (const auto& o : kRunOptions)
    if (in_name_list(o.names, ',', name)) return &o;
  return nullptr;
}

}  // namespace

void register_run_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<RunFlags>();
  auto* run = app.add_subcommand("run", "Run a command in a new disposable, read-only container");
  run->set_help_flag("--help", "show this help");  // -h is --hostname, as in docker
  // CLI11 spends ~20k instructions and a share of a heap page on each option it registers, which made
  // registration half of what a `kiln run` did in user space: only the options given before the image are
  // registered (all of them for help, or when there is no image to run).
  std::vector<const RunOption*> given;
  bool all = false;
  auto split = split_at_target(
      [&](const std::string& name) {
        if (name == "--help") {
          all = true;
          return FlagKind::flag;
        }
        const RunOption* o = find_run_option(name);
        if (!o) return FlagKind::unknown;
        given.push_back(o);
        return o->bind.takes_value ? FlagKind::value : FlagKind::flag;
      },
      ctx.after_command);
  all = all || split.target == ctx.after_command.size();
  for (const auto& o : kRunOptions) {
    if (!all && std::find(given.begin(), given.end(), &o) == given.end()) continue;
    CLI::Option* opt = o.bind.add(*run, *f, o.names, o.help);
    if (opt->get_items_expected_max() > 1) opt->allow_extra_args(false);  // -e A IMAGE: IMAGE is not a second -e
  }
  run->add_option("IMAGE", f->image, "image reference or ID, then the command and its arguments")->required();
  set_usage(*run, "kiln run [OPTIONS] IMAGE [COMMAND] [ARG...]");
  run->callback([&ctx, f] {
    f->cmd = ctx.trailing;  // main keeps the command after the image from CLI11 (split_at_target)
    ctx.action = [&ctx, f] { return run_cmd(ctx, *f); };
  });
}

}  // namespace kiln::cli
