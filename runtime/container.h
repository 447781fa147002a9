// Running one container: the parent's checklist (state, cgroups, clone, supervise, clean up) and the
// child's (namespaces, root filesystem, user, capabilities, seccomp, exec).
#pragma once

#include <functional>
#include <string>

#include "runtime/spec.h"
#include "runtime/state.h"

namespace kiln::runtime {

/// Exit codes as docker uses them for failures before the command runs.
inline constexpr int kExitRuntime = 125;     ///< kiln or the container setup failed
inline constexpr int kExitCannotExec = 126;  ///< the command exists but cannot be executed
inline constexpr int kExitNotFound = 127;    ///< the command was not found

/// The outcome of a container: its exit code, or an error that kept the command from starting.
struct RunOutcome {
  int exit_code = 0;
  Error error;  ///< set when the command never ran; exit_code is then 125/126/127
  bool failed_to_start = false;
  bool oom_killed = false;  ///< the kernel killed a process of it for its memory limit
  int cancelled_by = 0;     ///< spec.kill_on_interrupt: the signal (SIGINT, SIGTERM, SIGHUP) that ended it
};

/// Run the container to its end: stdio passed through (or a pty with spec.tty), signals forwarded.
/// on_started is called with the container's host pid once the command has been exec'd.
RunOutcome run_container(const ContainerSpec& spec, const std::function<void(pid_t)>& on_started = {});

/// What `kiln exec` runs, beyond the command: as docker exec takes it.
struct ExecOptions {
  std::vector<std::string> env;  ///< KEY=VALUE over the container's environment
  std::string user;              ///< "" for the container's own user; else user[:group], names or ids
  std::string cwd;               ///< "" for the container's working directory
  bool tty = false, interactive = false;
  bool detach = false;  ///< return once it runs; its output goes nowhere, as docker exec -d
};

/// Run a command in a running container: same namespaces, cgroups, capabilities and seccomp; the container's
/// user, environment and working directory unless the options say otherwise.
RunOutcome exec_in_container(const ContainerState& st, const std::vector<std::string>& args, const ExecOptions& o,
                             const std::string& seccomp_cache = "");

}  // namespace kiln::runtime
