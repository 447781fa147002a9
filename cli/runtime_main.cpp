// kiln-runtime: kiln's container runtime behind runc's command line, for engines (containerd, podman, CRI-O)
// that start containers from OCI bundles. Global flags come before the command, as runc takes them.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <iterator>
#include <optional>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/fd.h"
#include "common/identity.h"
#include "common/json.h"
#include "runtime/bundle_config.h"
#include "runtime/bundle_exec.h"
#include "runtime/bundle_lifecycle.h"
#include "runtime/bundle_list.h"
#include "runtime/bundle_state.h"
#include "runtime/options.h"
#include "runtime/seccomp.h"

namespace {

using namespace kiln;
using namespace kiln::runtime;

/// The state directory when --root is not given, chosen as runc chooses its own: $XDG_RUNTIME_DIR/kiln-runtime
/// for a user who is not root, and for root of a user namespace whose $USER is not root (podman rootless runs
/// its runtime so); /run/kiln-runtime for the real root.
std::string default_root() {
  const char* xdg = ::getenv("XDG_RUNTIME_DIR");
  if (!xdg || !*xdg) return "/run/kiln-runtime";
  std::string per_user = std::string(xdg) + "/kiln-runtime";
  if (::geteuid() != 0) return per_user;
  if (in_initial_user_namespace()) return "/run/kiln-runtime";
  const char* user = ::getenv("USER");
  return !user || std::string(user) != "root" ? per_user : "/run/kiln-runtime";
}

struct Globals {
  std::string root = default_root();
  std::string log, log_format = "text";
  bool debug = false, systemd_cgroup = false;
};

/// runc's line in the --log file: JSON with level, msg and time (containerd shows the last error's msg).
void log_line(const Globals& g, const std::string& level, const std::string& msg) {
  if (g.log.empty()) return;
  char ts[64];
  std::time_t now = std::time(nullptr);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::string line = g.log_format == "json"
                         ? json_text(nlohmann::json{{"level", level}, {"msg", msg}, {"time", ts}}) + "\n"
                         : std::string(ts) + " " + level + " " + msg + "\n";
  FILE* f = std::fopen(g.log.c_str(), "a");
  if (!f) return;
  std::fputs(line.c_str(), f);
  std::fclose(f);
}

std::string features_json() {
  nlohmann::json mount_options = nlohmann::json::array();
  for (const char* o : {"ro",         "rw",         "nosuid",      "suid",          "nodev",    "dev",
                        "noexec",     "exec",       "sync",        "async",         "dirsync",  "remount",
                        "mand",       "nomand",     "atime",       "noatime",       "diratime", "nodiratime",
                        "relatime",   "norelatime", "strictatime", "nostrictatime", "bind",     "rbind",
                        "private",    "rprivate",   "shared",      "rshared",       "slave",    "rslave",
                        "unbindable", "runbindable"})
    mount_options.push_back(o);
  nlohmann::json caps = nlohmann::json::array();
  for (int i = 0; i <= last_cap(); ++i) {
    if (auto name = cap_name(i); !name.empty()) caps.push_back(name);
  }
  nlohmann::json j = {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", "1.2.0"},
      {"hooks", {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
      {"mountOptions", mount_options},
      {"linux",
       {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}},
        {"capabilities", caps},
        {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", false}}},
        {"seccomp", {{"enabled", true}}},
        {"apparmor", {{"enabled", false}}},
        {"selinux", {{"enabled", false}}}}},
      {"annotations", {{"org.opencontainers.runtime-spec.features", "kiln-runtime"}}}};
  return json_text(j, 2) + "\n";
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  Globals g;
  CLI::App app{"kiln-runtime: kiln's OCI runtime, with runc's command line", "kiln-runtime"};
  app.require_subcommand(1);
  app.set_version_flag("-v,--version", std::string("runc version 1.1.0-kiln\nkiln-runtime 0.1.0\nspec: 1.0.2"));
  app.add_option("--root", g.root,
                 "state directory (default /run/kiln-runtime; $XDG_RUNTIME_DIR/kiln-runtime rootless)");
  app.add_option("--log", g.log, "append errors to this file");
  app.add_option("--log-format", g.log_format, "text or json")->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", g.debug, "more log lines");
  app.add_flag("--systemd-cgroup", g.systemd_cgroup, "(not supported)");
  std::function<Status()> action;
  int exit_code = 0;
  Warn warn = [&g](const std::string& msg) {
    std::cerr << "kiln-runtime: warning: " << msg << "\n";
    log_line(g, "warning", msg);
  };

  CreateOptions co;
  auto add_create_flags = [&co](CLI::App* c) {
    c->add_option("id", co.id, "container id")->required();
    c->add_option("-b,--bundle", co.bundle, "the bundle directory (default: .)");
    c->add_option("--pid-file", co.pid_file, "write the container's pid here");
    c->add_option("--console-socket", co.console_socket, "unix socket that receives the terminal's master");
    c->add_option("--preserve-fds", co.preserve_fds, "pass fds 3..3+N-1 to the container")
        ->check(CLI::Range(0, 1 << 20));
    static bool accepted = false;
    c->add_flag("--no-pivot,--no-new-keyring", accepted, "accepted; kiln-runtime always pivots and keeps the keyring");
  };
  auto* create = app.add_subcommand("create", "create a container that waits for start");
  add_create_flags(create);
  create->callback([&] {
    action = [&]() -> Status {
      co.root = g.root;
      TRY(bundle_create(co));
      return {};
    };
  });

  bool detach = false;
  auto* run = app.add_subcommand("run", "create and start a container (and wait for it unless --detach)");
  add_create_flags(run);
  run->add_flag("-d,--detach", detach, "return once it has started");
  run->callback([&] {
    action = [&]() -> Status {
      co.root = g.root;
      exit_code = TRY(bundle_run(co, detach, warn));
      return {};
    };
  });

  std::string id;
  auto* start = app.add_subcommand("start", "let a created container run its process");
  start->add_option("id", id)->required();
  start->callback([&] { action = [&] { return bundle_start(g.root, id, warn); }; });

  auto* state = app.add_subcommand("state", "the container's state as the runtime spec writes it");
  state->add_option("id", id)->required();
  state->callback([&] {
    action = [&]() -> Status {
      auto st = TRY(load_bundle_state(g.root, id));
      std::cout << bundle_state_json(g.root, st);
      return {};
    };
  });

  std::string list_format = "table";
  bool list_quiet = false;
  auto* list = app.add_subcommand("list", "the containers under the state directory");
  list->add_option("-f,--format", list_format, "table or json")->check(CLI::IsMember({"table", "json"}));
  list->add_flag("-q,--quiet", list_quiet, "only the container IDs");
  list->callback([&] {
    action = [&]() -> Status {
      auto all = TRY(list_bundles(g.root));
      auto read = read_file("/etc/passwd", 16u << 20);
      std::string passwd = read ? *read : "";  // without it, owners show as #UID
      if (list_quiet)
        for (const auto& l : all) std::cout << l.state.id << "\n";
      else
        std::cout << (list_format == "json" ? bundle_list_json(all, passwd) : bundle_list_table(all, passwd));
      return {};
    };
  });

  std::string signal = "SIGTERM";
  bool all = false;
  auto* kill = app.add_subcommand("kill", "send a signal to the container's process");
  kill->add_option("id", id)->required();
  kill->add_option("signal", signal, "name or number (default SIGTERM)");
  kill->add_flag("-a,--all", all, "every process of the container");
  kill->callback([&] { action = [&] { return bundle_kill(g.root, id, signal, all); }; });

  bool force = false;
  auto* del = app.add_subcommand("delete", "remove a stopped container");
  del->add_option("id", id)->required();
  del->add_flag("-f,--force", force, "kill it first if it runs");
  del->callback([&] { action = [&] { return bundle_delete(g.root, id, force, warn); }; });

  std::string format = "table";
  auto* ps = app.add_subcommand("ps", "the container's processes");
  ps->add_option("id", id)->required();
  ps->add_option("-f,--format", format)->check(CLI::IsMember({"table", "json"}));
  ps->callback([&] {
    action = [&]() -> Status {
      auto pids = TRY(bundle_pids(g.root, id));
      if (format == "json") {
        std::cout << json_text(nlohmann::json(pids)) << "\n";
      } else {
        std::cout << "PID\n";
        for (pid_t p : pids) std::cout << p << "\n";
      }
      return {};
    };
  });

  auto* features = app.add_subcommand("features", "what this runtime implements (runtime-spec features.md)");
  features->callback([&] {
    action = [&]() -> Status {
      std::cout << features_json();
      return {};
    };
  });

  std::string spec_bundle = ".";
  auto* spec = app.add_subcommand("spec", "write a default config.json into the bundle directory");
  spec->add_option("-b,--bundle", spec_bundle);
  spec->callback([&] {
    action = [&]() -> Status {
      std::string path = spec_bundle + "/config.json";
      if (path_exists(path)) return make_error(ErrorCode::conflict, "File " + path + " exists. Remove it first");
      UniqueFd fd = TRY(open_fd(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
      return write_all(fd.get(), default_bundle_config());
    };
  });

  ExecOptions eo;
  auto* exec =
      app.add_subcommand("exec", "run another process in a running container: ID COMMAND... or --process FILE");
  exec->add_option("-p,--process", eo.process_file, "a runtime-spec process object (JSON)");
  exec->add_flag("-d,--detach", eo.detach, "return once the process runs");
  exec->add_flag("-t,--tty", eo.tty, "a terminal (sent to --console-socket)");
  exec->add_option("--console-socket", eo.console_socket);
  exec->add_option("--pid-file", eo.pid_file);
  exec->add_option("--cwd", eo.cwd);
  exec->add_option("-e,--env", eo.env)->allow_extra_args(false);
  exec->add_option("-u,--user", eo.user, "uid[:gid]");
  exec->add_option("--preserve-fds", eo.preserve_fds)->check(CLI::Range(0, 1 << 20));
  exec->prefix_command();  // ID, then the command as it is
  exec->callback([&] {
    action = [&]() -> Status {
      auto rest = exec->remaining();
      if (rest.empty()) return make_error(ErrorCode::invalid_argument, "exec needs a container id");
      eo.id = rest[0];
      eo.args.assign(rest.begin() + 1, rest.end());
      eo.root = g.root;
      exit_code = TRY(bundle_exec(eo));
      return {};
    };
  });

  auto* pause = app.add_subcommand("pause", "freeze every process of the container");
  pause->add_option("id", id)->required();
  pause->callback([&] { action = [&] { return bundle_pause(g.root, id); }; });
  auto* resume = app.add_subcommand("resume", "thaw a paused container");
  resume->add_option("id", id)->required();
  resume->callback([&] { action = [&] { return bundle_resume(g.root, id); }; });

  // update: linux.resources from --resources (a file, or - for stdin), then runc's single-limit flags.
  std::string resources_file, memory, memory_reservation, memory_swap, cpuset_cpus, cpuset_mems;
  std::optional<int64_t> pids_limit, cpu_quota, cpu_period, cpu_shares, blkio_weight;
  auto* update = app.add_subcommand("update", "change a container's limits");
  update->add_option("id", id)->required();
  update->add_option("-r,--resources", resources_file, "a linux.resources JSON file, - for stdin");
  update->add_option("--memory", memory, "memory limit (bytes, or 64m, 1g)");
  update->add_option("--memory-reservation", memory_reservation, "memory soft limit (bytes, or 64m, 1g)");
  update->add_option("--memory-swap", memory_swap, "memory and swap together (bytes, or 64m, 1g; -1: unlimited)");
  update->add_option("--blkio-weight", blkio_weight, "block I/O weight, 10 to 1000");
  update->add_option("--pids-limit", pids_limit, "maximum number of processes (-1: unlimited)");
  update->add_option("--cpu-quota", cpu_quota, "CPU CFS quota in microseconds (-1: unlimited)");
  update->add_option("--cpu-period", cpu_period, "CPU CFS period in microseconds");
  update->add_option("--cpu-share", cpu_shares, "CPU shares (relative weight)");
  update->add_option("--cpuset-cpus", cpuset_cpus, "CPUs to run on (0-3, 0,1)");
  update->add_option("--cpuset-mems", cpuset_mems, "memory nodes to use (0-3, 0,1)");
  update->callback([&] {
    action = [&]() -> Status {
      BundleResources r;
      if (!resources_file.empty()) {
        std::string text;
        if (resources_file == "-") {
          text.assign(std::istreambuf_iterator<char>(std::cin), {});
        } else {
          text = TRY_CTX(read_file(resources_file, 1u << 20), "--resources " + resources_file);
        }
        r = TRY(parse_bundle_resources(text, resources_file == "-" ? "--resources (stdin)" : resources_file));
      }
      auto bytes = [](const std::string& v, const char* flag) -> Result<std::optional<int64_t>> {
        if (v.empty()) return std::optional<int64_t>{};
        if (v == "-1") return std::optional<int64_t>{-1};
        return std::optional<int64_t>{static_cast<int64_t>(TRY_CTX(parse_bytes(v), flag))};
      };
      if (!memory.empty()) r.memory_limit = TRY(bytes(memory, "--memory"));
      if (!memory_reservation.empty()) r.memory_reservation = TRY(bytes(memory_reservation, "--memory-reservation"));
      if (!memory_swap.empty()) r.memory_swap = TRY(bytes(memory_swap, "--memory-swap"));
      if (blkio_weight) {
        if (*blkio_weight < 10 || *blkio_weight > 1000)
          return make_error(ErrorCode::invalid_argument,
                            "--blkio-weight: " + std::to_string(*blkio_weight) + " is not from 10 to 1000");
        r.blkio_weight = *blkio_weight;
      }
      if (pids_limit) r.pids_limit = *pids_limit;
      if (cpu_quota) r.cpu_quota = *cpu_quota;
      if (cpu_period) r.cpu_period = *cpu_period;
      if (cpu_shares) r.cpu_shares = *cpu_shares;
      if (!cpuset_cpus.empty()) r.cpuset_cpus = cpuset_cpus;
      if (!cpuset_mems.empty()) r.cpuset_mems = cpuset_mems;
      return bundle_update(g.root, id, r);
    };
  });

  for (const char* name : {"checkpoint", "restore", "events"}) {
    auto* c = app.add_subcommand(name, std::string(name) + " (not supported yet)");
    c->allow_extras();
    c->callback([&, name] {
      action = [name]() -> Status {
        return make_error(ErrorCode::unsupported, std::string("kiln-runtime ") + name + " is not supported yet");
      };
    });
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "kiln-runtime: " << e.what() << " (see kiln-runtime --help)\n";
    log_line(g, "error", e.what());
    return 2;
  }
  if (g.systemd_cgroup) {
    std::string msg = "--systemd-cgroup is not supported: kiln-runtime manages cgroupfs paths itself";
    std::cerr << "kiln-runtime: " << msg << "\n";
    log_line(g, "error", msg);
    return 1;
  }
  if (!action) return 0;
  Status st;
  try {  // a bug's exception unwinds (mounts and state are released) and ends as one error line
    st = action();
  } catch (const std::exception& e) {
    st = make_error(ErrorCode::generic,
                    std::string("internal error (") + e.what() +
                        "): a bug in kiln-runtime; please report it with the command that caused it");
  }
  std::cout.flush();
  if (!st) {
    std::cerr << "kiln-runtime: " << st.error().what() << "\n";
    log_line(g, "error", st.error().what());
    return 1;
  }
  return exit_code;
}
