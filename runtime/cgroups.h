// Per-container cgroups: memory, pids and cpu limits on cgroup v2 or v1 controllers (hybrid hosts use both).
#pragma once

#include <sys/types.h>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "runtime/spec.h"

namespace kiln::runtime {

/// The cgroup directories made for one container, removed by destroy().
class Cgroup {
 public:
  /// Create "kiln-<id>" under this process's own cgroup in each hierarchy that offers a needed controller (in
  /// v2 under "kiln" there, made once and kept, as docker keeps its "docker") and write the limits (on a
  /// v1-only host also docker's device allow list).
  static Result<Cgroup> create(const std::string& id, const ContainerSpec& spec);
  /// The v2 directory, open for clone3(CLONE_INTO_CGROUP); -1 on a host without cgroup v2 (the v1 devices
  /// controller holds the allow list there).
  int v2_fd() const { return m_v2_fd.get(); }
  /// True when v1 controllers hold limits: join must then write the container's pid there.
  bool has_v1_dirs() const { return m_dirs.size() > (m_v2_dir.empty() ? 0u : 1u); }
  /// Move a process in and restrict the cgroup's devices to docker's default allow list (a v2 device program
  /// on the parent, see devices.h); before the process runs anything of the container's. skip_v2 when it was
  /// born in the v2 cgroup already.
  Status join(pid_t pid, bool skip_v2 = false) const;
  /// How many processes the kernel killed for the memory limit (memory.events in v2, memory.oom_control in v1).
  uint64_t oom_kills() const;
  /// Remove the directories, killing what is still in them (retrying while the kernel finishes reaping).
  void destroy();
  const std::vector<std::string>& dirs() const { return m_dirs; }
  /// Remove leftovers named kiln-<id> for a container whose supervisor died (kill -9 of kiln): what is still
  /// in them is killed, and their removal waits for it. False when one could not be removed.
  static bool remove_stale(const std::string& id);
  /// Remove every empty kiln-<16 hex> cgroup that belongs to none of these containers, even one no state
  /// records any more (kiln gc). Returns how many went.
  static size_t remove_orphans(const std::vector<std::string>& live_ids);
  /// The kiln-made cgroup directories a running container's process is in (for exec to join).
  static std::vector<std::string> dirs_of(pid_t pid);

 private:
  std::vector<std::string> m_dirs;
  std::string m_v2_dir;
  UniqueFd m_v2_fd;
  UniqueFd m_v2_parent_fd;  ///< "kiln", the v2 parent of every container cgroup, holding the device filter
};

/// Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid); ""
/// for a host without one.
std::string cgroup_v2_mount();
/// The controllers a v2 file lists: cgroup.controllers (what a cgroup has), cgroup.subtree_control (what it
/// hands its children).
std::set<std::string> controllers_in(const std::string& file);
/// A process's path in each hierarchy, from /proc/<proc>/cgroup ("self" for this one): controller list
/// ("memory", "cpu,cpuacct", "name=systemd"; "" for v2) → path.
std::vector<std::pair<std::string, std::string>> cgroups_of(const std::string& proc);

/// Hand controller to dir's children (+controller in its cgroup.subtree_control). cgroup v2 refuses that while
/// dir holds processes of its own (EBUSY; its root excepted): a user's delegated cgroup holds kiln, and the
/// shell that started it. They are moved first into dir/kiln-procs, a leaf beside the containers' cgroups, as
/// docker-in-docker moves its own into /init; a kiln started there later takes dir for its delegated cgroup.
Status enable_for_children(const std::string& dir, const std::string& controller);

}  // namespace kiln::runtime
