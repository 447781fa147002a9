// The container's root filesystem: overlay of layer trees under a runtime-made top layer, plus /proc, /dev,
// /sys, /etc/hosts…, user mounts, docker's masked and read-only paths, and pivot_root into it.
#pragma once

#include <string>

#include "common/error.h"
#include "runtime/spec.h"

namespace kiln::runtime {

/// Host side, before clone: every bind source exists (a clear error instead of a failed child).
Status check_mount_sources(const ContainerSpec& spec);

/// Child side, in the new mount namespace, first half: a scratch tmpfs over the directory scratch (seen from
/// this namespace only) for the top layer (mountpoints for /proc, /dev, /sys, /tmp, /etc/hosts…, volume
/// targets) and the generated /etc files, the overlay root, /proc, /dev, the user's mounts, docker's masked
/// and read-only /proc paths, then pivot_root.
/// Afterwards "/" is the container's root and no host path is reachable. Returns the path of a masked, empty
/// read-only directory for finish_rootfs to bind ("" when this kernel had none to mask).
Result<std::string> prepare_rootfs(const std::string& scratch, const ContainerSpec& spec);
/// Second half, once the process is in the container's network namespace: /sys (unless --network host bound
/// the host's in the first half) and its masked paths.
Status finish_rootfs(const ContainerSpec& spec, std::string empty);

}  // namespace kiln::runtime
