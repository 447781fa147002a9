// Which devices a container may open: docker's default allow list, enforced by a cgroup v2 device program
// (BPF_PROG_TYPE_CGROUP_DEVICE, as crun and runc attach it). Mount flags alone do not stop a container with
// CAP_MKNOD from making a node for a host disk on a writable filesystem and opening it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace kiln::runtime {

/// Make sure the cgroup v2 directory open at cgroup_fd (O_RDONLY|O_DIRECTORY) holds kiln's device filter, which
/// every cgroup below it inherits: any device may be created (mknod), only null, zero, full, random, urandom,
/// tty, console, ptmx and the pty slaves opened. Attached once to the parent of the containers' cgroups and
/// found there by name afterwards (four system calls), because loading it costs the kernel's verifier and JIT
/// at every start and its release an RCU grace period at every exit (bench/PERFORMANCE.md).
Status ensure_device_filter(int cgroup_fd);

/// One entry of an OCI config's linux.resources.devices: allow or deny access (r, w, m) to a device type
/// (a: any, c, b) and major:minor, -1 for any.
struct DeviceRule {
  bool allow = false;
  char type = 'a';
  int64_t major = -1, minor = -1;
  std::string access = "rwm";
};

/// What a list of rules comes to, applied in order as cgroup v1's devices controller applies them: a rule for
/// every device sets the default and drops what came before; any other rule is an exception to the default,
/// or, with the default's own verdict, takes access back from an earlier exception for the same device.
struct DevicePolicy {
  bool default_allow = false;
  std::vector<DeviceRule> exceptions;
};
DevicePolicy device_policy(const std::vector<DeviceRule>& rules);

/// A device program for the policy of rules, loaded and attached to the cgroup at cgroup_fd (kiln-runtime,
/// one per container, as runc and crun attach theirs).
Status attach_device_rules(int cgroup_fd, const std::vector<DeviceRule>& rules);

/// docker's and runc's default list as rules (any node may be made; null, zero, full, random, urandom, tty,
/// console, ptmx and the pty slaves opened): what kiln-runtime appends to a config's own rules, as runc does.
std::vector<DeviceRule> default_device_rules();

/// The same list for the v1 devices controller (devices.allow lines, after a devices.deny of "a"), for hosts
/// without cgroup v2.
const std::vector<const char*>& v1_device_rules();

}  // namespace kiln::runtime
