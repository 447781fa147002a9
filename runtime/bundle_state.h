// kiln-runtime's record of the containers it created: <root>/<id>/state.json and the exec fifo beside it, and
// the status the runtime spec names (creating, created, running, stopped), read from the process itself.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/error.h"
#include "runtime/bundle_host_mounts.h"

namespace kiln::runtime {

struct BundleState {
  std::string id, bundle, rootfs, created;  ///< created: RFC 3339
  pid_t pid = 0;
  uint64_t pid_start = 0;            ///< the process's start time, so a reused pid is never taken for it
  std::vector<std::string> cgroups;  ///< the cgroup directories kiln-runtime made (v2 first, where there is one)
  std::string cgroup_path;           ///< their path below each hierarchy's root (for update's new controllers)
  std::map<std::string, std::string> annotations;
  std::string hooks_json;  ///< config.json's hooks, for poststart and poststop ("" for none)
  /// Without a mount namespace of its own: the mounts create made in the host's, which delete takes down.
  std::vector<HostMount> host_mounts;
};

/// Container IDs as runc takes them: letters, digits, `_ + - .`, not starting with a dot, at most 1024.
Status check_container_id(const std::string& id);
/// <root>/<id>
std::string bundle_state_dir(const std::string& root, const std::string& id);
/// The exec fifo a created container waits on until `start`.
std::string exec_fifo_path(const std::string& root, const std::string& id);
/// Compiled seccomp programs of the containers under root (engines start many with the same profile); a
/// container's id never starts with '.', so this is no container's.
inline std::string bundle_seccomp_cache_dir(const std::string& root) { return root + "/.seccomp"; }

Status save_bundle_state(const std::string& root, const BundleState& st);
/// "container \"ID\" does not exist" when there is no such container (runc's words, which engines match).
Result<BundleState> load_bundle_state(const std::string& root, const std::string& id);
/// True while the recorded process lives (same pid, same start time).
bool bundle_process_alive(const BundleState& st);
/// created, running, paused (runc's word for a frozen container) or stopped.
std::string bundle_status(const std::string& root, const BundleState& st);
/// The pid the spec's state shows: the process's, 0 once it has stopped.
inline pid_t bundle_shown_pid(const BundleState& st, const std::string& status) {
  return status == "stopped" ? 0 : st.pid;
}
/// The runtime spec's state object (ociVersion, id, status, pid, bundle, rootfs, created, annotations) for a
/// status already read.
nlohmann::json bundle_state_object(const BundleState& st, const std::string& status);
/// The runtime spec's state JSON (ociVersion, id, status, pid, bundle, annotations).
std::string bundle_state_json(const std::string& root, const BundleState& st);

}  // namespace kiln::runtime
