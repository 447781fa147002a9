// A container whose config has no mount namespace shares the host's (the runtime spec: a namespace not listed is
// inherited), so its config's mounts are made in the host's mount table, under its root. create records them by
// mount ID once the container's process has made them; delete (or a create that failed) takes them down, each
// found by its ID and reached from the root without following a symlink, so a container that moved things in its
// root cannot point the unmount elsewhere.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace kiln::runtime {

struct HostMount {
  uint64_t id = 0;   ///< the kernel's mount ID (mountinfo's first field, statx's stx_mnt_id)
  std::string path;  ///< its mount point on the host
};

/// The mounts at or below root in a mountinfo text, in the table's order (a parent before what is mounted on it).
std::vector<HostMount> mounts_below(const std::string& mountinfo, const std::string& root);
/// The same from this process's /proc/self/mountinfo.
std::vector<HostMount> mounts_below(const std::string& root);
/// The mounts of after that are not in before.
std::vector<HostMount> new_mounts(const std::vector<HostMount>& before, const std::vector<HostMount>& after);
/// Detaches the mounts, last first, each found by its ID where it is now (the container may have renamed a
/// directory above it) and reached from root with no symlink followed. One that is gone already is skipped; one
/// that cannot be reached so (another mount over it) is left and named in the error.
Status unmount_host_mounts(const std::string& root, const std::vector<HostMount>& mounts);

}  // namespace kiln::runtime
