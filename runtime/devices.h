// Which devices a container may open: docker's default allow list, enforced by a cgroup v2 device program
// (BPF_PROG_TYPE_CGROUP_DEVICE, as crun and runc attach it). Mount flags alone do not stop a container with
// CAP_MKNOD from making a node for a host disk on a writable filesystem and opening it.
#pragma once

#include <vector>

#include "common/error.h"

namespace kiln::runtime {

/// Make sure the cgroup v2 directory open at cgroup_fd (O_RDONLY|O_DIRECTORY) holds kiln's device filter, which
/// every cgroup below it inherits: any device may be created (mknod), only null, zero, full, random, urandom,
/// tty, console, ptmx and the pty slaves opened. Attached once to the parent of the containers' cgroups and
/// found there by name afterwards (four system calls), because loading it costs the kernel's verifier and JIT
/// at every start and its release an RCU grace period at every exit (bench/PERFORMANCE.md).
Status ensure_device_filter(int cgroup_fd);

/// The same list for the v1 devices controller (devices.allow lines, after a devices.deny of "a"), for hosts
/// without cgroup v2.
const std::vector<const char*>& v1_device_rules();

}  // namespace kiln::runtime
