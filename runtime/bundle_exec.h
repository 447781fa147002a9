// kiln-runtime exec: another process in a running container, in all its namespaces and cgroups, with the
// config's capabilities, seccomp and noNewPrivileges unless --process names its own.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"

namespace kiln::runtime {

struct ExecOptions {
  std::string root, id;
  std::string process_file;  ///< --process: a runtime-spec process object (replaces the options below)
  std::vector<std::string> args, env;
  std::string cwd, user;  ///< user: uid[:gid]
  bool tty = false, detach = false;
  std::string console_socket, pid_file;
  int preserve_fds = 0;
};

/// The process's exit code (128+signal), or 0 once it runs with detach.
Result<int> bundle_exec(const ExecOptions& o);

}  // namespace kiln::runtime
