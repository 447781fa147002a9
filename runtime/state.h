// Running containers on this host: /run/kiln/containers/<id>.json, flock-ed by the kiln that supervises it.
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
  std::string image_digest, image_id, store_root;  ///< what the container runs on (ContainerSpec)
  std::vector<std::string> args;
  pid_t pid = 0;           ///< the container's pid 1, as the host sees it
  uint64_t pid_start = 0;  ///< its start time (/proc/PID/stat, clock ticks after boot)
  uint64_t pidns = 0;      ///< the inode of its pid namespace
  int stop_signal = 15;
  int stop_timeout = 10;  ///< --stop-timeout: what `kiln stop` waits when not told -t
  std::string log_path;
  std::string ports;  ///< the published ports, as ps shows them ("0.0.0.0:8080->80/tcp")
  // What exec repeats:
  std::vector<std::string> env;
  std::string user, cwd, seccomp_profile;
  std::vector<std::string> cap_add, cap_drop;
};

/// Base directory of running containers: $KILN_RUN_DIR, else /run/kiln/containers.
/// The directory of kiln's run state: /run/kiln for root; rootless, $XDG_RUNTIME_DIR/kiln, else /tmp/kiln-UID.
std::string run_base();
/// Rootless: make run_base() if need be and check it is a directory of the user's alone (/tmp is shared).
Status check_run_base();
std::string containers_dir();
/// <containers_dir>/<id>.json: a live container's state, locked (flock) by its supervising kiln process.
std::string state_path_of(const std::string& id);

/// The state file of a live container. A file, not a directory: on ext4 a directory costs a block (and its
/// discard at removal) that a short-lived file written once never gets.
class StateFile {
 public:
  /// Create the file, take its lock, and reserve the name (refused while a live container has it).
  static Result<StateFile> create(const ContainerSpec& spec);
  Status save(const ContainerState& st) const;
  /// Remove the file and release the name (the container has exited).
  void remove();
  /// Remove what containers whose kiln was killed (kill -9) left: state files, cgroups, names. Each
  /// `kiln run` calls it once its own container is being made (create sweeps only when a name is taken).
  static void sweep_leftovers();

 private:
  void remove_file_only();
  std::string m_path, m_name_link;
  UniqueFd m_lock;
};

/// Live containers; removes the leftovers (state file, cgroups, name) of any whose supervisor is gone.
Result<std::vector<ContainerState>> list_containers();
/// Removes the kiln-ID cgroups no live container owns (a kiln killed at the wrong moment, an older kiln's) and
/// the leftovers of dead containers; returns how many cgroup directories went.
size_t remove_orphan_cgroups();
/// Find a live container by name, full ID or ID prefix.
Result<ContainerState> find_container(const std::string& name_or_id);

/// Field 22 of /proc/PID/stat (the process's start time), counted after the command's closing parenthesis
/// (the command may hold any byte); nothing when the process is gone.
std::optional<uint64_t> start_time_of(pid_t pid);
/// True when pid is the process that started at `start` (start_time_of) and has not exited (a zombie has).
bool same_live_process(pid_t pid, uint64_t start);
/// Records in st where its pid 1 can be told apart from any other process (start time, pid namespace).
Status record_identity(ContainerState& st);
/// A pidfd of the container's pid 1, once the pid in st is proven to be that process: the same start time and
/// pid namespace as recorded at the start, a namespace that is not kiln's own. A pid read from a file is never
/// signalled or joined on its word alone. "container NAME is not running" when it has exited.
Result<UniqueFd> open_container_process(const ContainerState& st);
/// The -d log of a container.
std::string log_path_of(const std::string& id);

}  // namespace kiln::runtime
