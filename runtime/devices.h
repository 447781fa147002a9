// Which devices a container may open: docker's default allow list, enforced by a cgroup v2 device program
// (BPF_PROG_TYPE_CGROUP_DEVICE, as crun and runc attach it). Mount flags alone do not stop a container with
// CAP_MKNOD from making a node for a host disk on a writable filesystem and opening it.
#pragma once

#include <vector>

#include "common/error.h"

namespace kiln::runtime {

/// Attach the device filter to the cgroup v2 directory open at cgroup_fd (O_RDONLY|O_DIRECTORY): any device
/// may be created (mknod), only null, zero, full, random, urandom, tty, console, ptmx and the pty slaves opened.
Status attach_device_filter(int cgroup_fd);

/// The same list for the v1 devices controller (devices.allow lines, after a devices.deny of "a"), for hosts
/// without cgroup v2.
const std::vector<const char*>& v1_device_rules();

}  // namespace kiln::runtime
