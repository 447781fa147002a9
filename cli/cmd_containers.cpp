// kiln ps, logs, stop, kill, exec: containers that are running now.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/go_template.h"
#include "common/json.h"
#include "runtime/container.h"
#include "runtime/log_writer.h"
#include "runtime/process_config.h"
#include "runtime/seccomp_cache.h"
#include "runtime/signals.h"
#include "runtime/state.h"

namespace kiln::cli {

namespace {

/// docker's columns (CONTAINER ID, IMAGE, COMMAND, CREATED, STATUS, PORTS, NAMES), or a Go template over the same
/// fields; every container listed is running (kiln keeps none that stopped).
Status ps(bool quiet, const std::string& format, bool no_trunc) {
  auto list = TRY(runtime::list_containers());
  if (quiet) {
    for (const auto& c : list) std::printf("%s\n", no_trunc ? c.id.c_str() : c.id.substr(0, 12).c_str());
    return {};
  }
  std::vector<nlohmann::json> objects;
  for (const auto& c : list) {
    std::string cmd;
    for (const auto& a : c.args) cmd += (cmd.empty() ? "" : " ") + a;
    if (!no_trunc && cmd.size() > 20) cmd = cmd.substr(0, 19) + "…";
    std::string age = human_age(c.created);
    std::string up =
        age.size() > 4 && age.compare(age.size() - 4, 4, " ago") == 0 ? age.substr(0, age.size() - 4) : age;
    objects.push_back({{"ID", no_trunc ? c.id : c.id.substr(0, 12)},
                       {"Image", c.image},
                       {"Command", "\"" + cmd + "\""},
                       {"CreatedAt", c.created},
                       {"RunningFor", age},
                       {"Status", "Up " + up},
                       {"State", "running"},
                       {"Ports", c.ports},
                       {"Names", c.name}});
  }
  std::string f =
      format.empty() || format == "table"
          ? "table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}"
          : format;
  return print_formatted(f, objects,
                         {{"ID", "CONTAINER ID"},
                          {"Image", "IMAGE"},
                          {"Command", "COMMAND"},
                          {"CreatedAt", "CREATED AT"},
                          {"RunningFor", "CREATED"},
                          {"Status", "STATUS"},
                          {"State", "STATE"},
                          {"Ports", "PORTS"},
                          {"Names", "NAMES"}},
                         std::cout);
}

Status logs(const std::string& name, bool follow) {
  auto c = TRY(runtime::find_container(name));
  if (c.log_path.empty())
    return make_error(ErrorCode::not_found,
                      "container " + name + " runs in the foreground: its output went to its terminal");
  // What was rotated out first, oldest first; then the current file, followed with -f. The fd keeps the log
  // readable after the container exits and its state goes.
  auto files = runtime::log_files(c.log_path);
  files.pop_back();
  for (const auto& f : files) {
    auto text = read_file(f);
    if (text) std::cout << *text;
  }
  UniqueFd fd = TRY(open_fd(c.log_path, O_RDONLY));
  std::string state = runtime::state_path_of(c.id);
  char buf[1 << 16];
  bool last_pass = false;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read " + c.log_path);
    if (n > 0) {
      std::cout.write(buf, n);
      if (!std::cout) return {};  // the reader went away (| head)
      continue;
    }
    if (!follow || last_pass) return {};
    std::cout.flush();
    // -f: until the container is gone (its supervisor removes its state file), then what it wrote last.
    if (!path_exists(state))
      last_pass = true;
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

/// Each name in turn, as docker does: a failure is reported on its own line and the rest still go; the
/// command fails at the end if any did.
Status for_each_container(const std::vector<std::string>& names, const std::function<Status(const std::string&)>& f) {
  std::optional<Error> last;
  for (const auto& n : names) {
    auto st = f(n);
    if (st) {
      std::cout << n << "\n";
      continue;
    }
    if (last) std::cerr << "kiln: " << last->what() << "\n";
    last = std::move(st).error();
  }
  if (last) return std::move(*last);
  return {};
}

int send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

/// docker's container inspect fields for a running kiln container (every listed one runs), then kiln's.
Status container_inspect(const std::vector<std::string>& names, const std::string& format) {
  std::vector<nlohmann::json> objects;
  for (const auto& n : names) {
    auto c = TRY(runtime::find_container(n));
    nlohmann::json args = nlohmann::json::array();
    for (size_t i = 1; i < c.args.size(); ++i) args.push_back(c.args[i]);
    objects.push_back({{"Id", c.id},
                       {"Name", "/" + c.name},
                       {"Created", c.created},
                       {"Path", c.args.empty() ? "" : c.args[0]},
                       {"Args", args},
                       {"State", {{"Status", "running"}, {"Running", true}, {"Pid", c.pid}, {"StartedAt", c.created}}},
                       {"Image", c.image_id},
                       {"LogPath", c.log_path},
                       {"Config",
                        {{"Image", c.image},
                         {"Cmd", c.args},
                         {"Env", c.env},
                         {"User", c.user},
                         {"WorkingDir", c.cwd},
                         {"StopSignal", c.stop_signal},
                         {"StopTimeout", c.stop_timeout}}},
                       {"HostConfig", {{"CapAdd", c.cap_add}, {"CapDrop", c.cap_drop}, {"ReadonlyRootfs", true}}},
                       {"NetworkSettings", {{"Ports", c.ports}}},
                       {"ImageDigest", c.image_digest}});
  }
  if (!format.empty() && format != "json") return print_formatted(format, objects, nlohmann::json::object(), std::cout);
  std::cout << json_text(nlohmann::json(objects), 2) << "\n";
  return {};
}

/// True once the process behind pidfd has exited, waiting up to timeout.
bool exited_within(int pidfd, std::chrono::milliseconds timeout) {
  struct pollfd pfd = {pidfd, POLLIN, 0};
  return ::poll(&pfd, 1, static_cast<int>(timeout.count())) > 0;
}

/// timeout: -t, else each container's --stop-timeout (10 s unless it was given one).
Status stop(const std::vector<std::string>& names, std::optional<int> timeout) {
  return for_each_container(names, [&](const std::string& n) -> Status {
    auto c = TRY(runtime::find_container(n));
    UniqueFd pidfd = TRY(runtime::open_container_process(c));
    send_signal(pidfd.get(), c.stop_signal);
    if (!exited_within(pidfd.get(), std::chrono::seconds(timeout.value_or(c.stop_timeout))))
      send_signal(pidfd.get(), SIGKILL);
    // Wait for the supervisor to clean up, so a following `kiln ps` no longer shows it.
    for (int i = 0; i < 500 && path_exists(runtime::state_path_of(c.id)); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return {};
  });
}

Status kill_cmd(const std::vector<std::string>& names, const std::string& sig) {
  int s = runtime::signal_from_name(sig);
  if (s <= 0 || s >= NSIG) return make_error(ErrorCode::invalid_argument, "invalid signal \"" + sig + "\"");
  return for_each_container(names, [&](const std::string& n) -> Status {
    auto c = TRY(runtime::find_container(n));
    UniqueFd pidfd = TRY(runtime::open_container_process(c));
    if (send_signal(pidfd.get(), s) < 0) return sys_error("signal container " + n);
    return {};
  });
}

}  // namespace

void register_container_commands(CLI::App& app, Context& ctx) {
  auto quiet = std::make_shared<bool>(false);
  auto* ps_cmd = app.add_subcommand("ps", "List running containers");
  auto ps_format = std::make_shared<std::string>();
  auto ps_no_trunc = std::make_shared<bool>(false);
  ps_cmd->add_flag("-q,--quiet", *quiet, "only IDs");
  ps_cmd->add_option("--format", *ps_format, "table (default) or a Go template ('{{.Names}} {{.Ports}}')");
  ps_cmd->add_flag("--no-trunc", *ps_no_trunc, "full IDs and commands");
  auto ps_all = std::make_shared<bool>(false);
  ps_cmd->add_flag("-a,--all", *ps_all, "accepted for docker compatibility: kiln keeps no stopped containers");
  ps_cmd->callback([&ctx, quiet, ps_format, ps_no_trunc] {
    ctx.action = [quiet, ps_format, ps_no_trunc] { return ps(*quiet, *ps_format, *ps_no_trunc); };
  });

  auto inames = std::make_shared<std::vector<std::string>>();
  auto iformat = std::make_shared<std::string>();
  auto* ci =
      app.add_subcommand("container-inspect", "Show running containers as JSON (kiln container inspect)")->group("");
  ci->add_option("CONTAINER", *inames, "name or ID")->required();
  ci->add_option("-f,--format", *iformat, "a Go template over each container ('{{.State.Pid}}'), or json");
  ci->callback(
      [&ctx, inames, iformat] { ctx.action = [inames, iformat] { return container_inspect(*inames, *iformat); }; });

  auto lname = std::make_shared<std::string>();
  auto* logs_cmd = app.add_subcommand("logs", "Show the output of a detached container");
  logs_cmd->add_option("CONTAINER", *lname, "name or ID")->required();
  auto follow = std::make_shared<bool>(false);
  logs_cmd->add_flag("-f,--follow", *follow, "keep printing the output until the container exits");
  logs_cmd->callback([&ctx, lname, follow] { ctx.action = [lname, follow] { return logs(*lname, *follow); }; });

  auto snames = std::make_shared<std::vector<std::string>>();
  auto timeout = std::make_shared<std::optional<int>>();
  auto* stop_cmd = app.add_subcommand("stop", "Stop containers: StopSignal, then SIGKILL after -t seconds");
  stop_cmd->add_option("CONTAINER", *snames, "name or ID")->required();
  stop_cmd->add_option("-t,--time", *timeout,
                       "seconds to wait before SIGKILL (default: the container's --stop-timeout, 10)");
  stop_cmd->callback([&ctx, snames, timeout] { ctx.action = [snames, timeout] { return stop(*snames, *timeout); }; });

  auto knames = std::make_shared<std::vector<std::string>>();
  auto sig = std::make_shared<std::string>("KILL");
  auto* kill_c = app.add_subcommand("kill", "Send a signal to containers (default SIGKILL)");
  kill_c->add_option("CONTAINER", *knames, "name or ID")->required();
  kill_c->add_option("-s,--signal", *sig, "signal name or number");
  kill_c->callback([&ctx, knames, sig] { ctx.action = [knames, sig] { return kill_cmd(*knames, *sig); }; });

  struct ExecFlags {
    std::string name;
    std::vector<std::string> env_files;
    runtime::ExecOptions o;
  };
  auto ef = std::make_shared<ExecFlags>();
  auto* exec_cmd = app.add_subcommand("exec", "Run a command in a running container");
  exec_cmd->add_option("-e,--env", ef->o.env, "set an environment variable (KEY=VALUE)")->allow_extra_args(false);
  exec_cmd->add_option("--env-file", ef->env_files, "read environment variables from a file")->allow_extra_args(false);
  exec_cmd->add_option("-u,--user", ef->o.user, "user[:group] to run as (names from the image, or ids)");
  exec_cmd->add_option("-w,--workdir", ef->o.cwd, "working directory inside the container");
  exec_cmd->add_flag("-d,--detach", ef->o.detach, "run in the background: return once it has started");
  exec_cmd->add_flag("-t,--tty", ef->o.tty, "allocate a pseudo-terminal");
  exec_cmd->add_flag("-i,--interactive", ef->o.interactive, "keep standard input open");
  exec_cmd->add_option("CONTAINER", ef->name, "name or ID, then the command")->required();
  set_usage(*exec_cmd, "kiln exec [OPTIONS] CONTAINER COMMAND [ARG...]");
  exec_cmd->callback([&ctx, ef] {
    auto args = std::make_shared<std::vector<std::string>>(ctx.trailing);  // split_at_target
    ctx.action = [&ctx, ef, args]() -> Status {
      ctx.exit_code = runtime::kExitRuntime;
      if (args->empty())
        return make_error(ErrorCode::invalid_argument, "kiln exec needs a command after the container");
      if (!ef->o.cwd.empty() && ef->o.cwd[0] != '/')
        return make_error(ErrorCode::invalid_argument, "-w " + ef->o.cwd + ": the working directory must be absolute");
      runtime::ExecOptions o = ef->o;
      std::vector<std::string> env;  // the files first, then -e, as run reads them
      for (const auto& file : ef->env_files) {
        std::string text = TRY(read_file(file));
        for (auto& e : TRY(runtime::parse_env_file(text, file))) env.push_back(e);
      }
      env.insert(env.end(), o.env.begin(), o.env.end());
      o.env = env;
      auto c = TRY(runtime::find_container(ef->name));
      auto out = runtime::exec_in_container(c, *args, o, runtime::seccomp_cache_dir(ctx.root));
      ctx.exit_code = out.exit_code;
      if (out.failed_to_start) return out.error;
      return {};
    };
  });
}

}  // namespace kiln::cli
