// kiln-runtime's lifecycle of a bundle, as runc's command line drives it: create leaves the container's process
// waiting on an exec FIFO and exits (the engine, not kiln, supervises it from then on); start lets it exec;
// state, kill, delete, ps; run is create + start + wait.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "runtime/bundle_cgroups.h"

namespace kiln::runtime {

struct CreateOptions {
  std::string root;  ///< --root: where the states live
  std::string id;
  std::string bundle = ".";
  std::string pid_file;        ///< written with the container's host pid
  std::string console_socket;  ///< process.terminal: the pty master goes here (SCM_RIGHTS)
  int preserve_fds = 0;
  bool subreaper = false;  ///< run: this process waits for the container, so it adopts it
};

/// Where a warning goes (a poststart or poststop hook that failed): kiln-runtime's log and stderr.
using Warn = std::function<void(const std::string&)>;

/// create: the container made and waiting; returns its host pid.
Result<pid_t> bundle_create(const CreateOptions& o);
/// start: let a created container exec its process.
Status bundle_start(const std::string& root, const std::string& id, const Warn& warn);
/// kill: a signal (name or number) to the container's process, or with all to every process of its cgroup.
Status bundle_kill(const std::string& root, const std::string& id, const std::string& signal, bool all);
/// delete: remove a stopped container's state and cgroup (force: kill a running one first).
Status bundle_delete(const std::string& root, const std::string& id, bool force, const Warn& warn);
/// pause / resume: freeze or thaw every process of a running container (its cgroup v2 freezer).
Status bundle_pause(const std::string& root, const std::string& id);
Status bundle_resume(const std::string& root, const std::string& id);
/// update: new limits for a created, running or paused container.
Status bundle_update(const std::string& root, const std::string& id, const BundleResources& r);
/// The pids of the container's processes (its cgroup's, else its own).
Result<std::vector<pid_t>> bundle_pids(const std::string& root, const std::string& id);
/// run: create, start, wait; the exit code of the container's process (128+signal when killed). With detach,
/// returns once started.
Result<int> bundle_run(const CreateOptions& o, bool detach, const Warn& warn);

/// A connected socket to --console-socket (where a terminal's master is sent), or one clear error.
Result<UniqueFd> connect_console(const std::string& path);

}  // namespace kiln::runtime
