// Running containers on this host: /run/kiln/containers/<id>/ with state.json, flock-ed by its supervisor.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "runtime/spec.h"

namespace kiln::runtime {

/// What `kiln ps`, `stop`, `kill`, `logs` and `exec` need to know about a container.
struct ContainerState {
  std::string id, name, image, created;
  std::vector<std::string> args;
  pid_t pid = 0;  ///< the container's pid 1, as the host sees it
  int stop_signal = 15;
  std::string log_path;
  // What exec repeats:
  std::vector<std::string> env;
  std::string user, cwd, seccomp_profile;
  std::vector<std::string> cap_add, cap_drop;
};

/// Base directory of running containers: $KILN_RUN_DIR, else /run/kiln/containers.
std::string containers_dir();
std::string state_dir_of(const std::string& id);

/// The state directory of a live container; its lock is held by the supervising kiln process.
class StateDir {
 public:
  /// Create the directory, take its lock, and reserve the name (refused while a live container has it).
  static Result<StateDir> create(const ContainerSpec& spec);
  const std::string& path() const { return m_path; }
  Status save(const ContainerState& st) const;
  /// Remove the directory and release the name (the container has exited).
  void remove();

 private:
  void remove_dir_only();
  std::string m_path, m_name_link;
  UniqueFd m_lock;
};

/// Live containers; removes the leftovers (state dir, cgroups) of any whose supervisor is gone.
Result<std::vector<ContainerState>> list_containers();
/// Find a live container by name, full ID or ID prefix.
Result<ContainerState> find_container(const std::string& name_or_id);

}  // namespace kiln::runtime
