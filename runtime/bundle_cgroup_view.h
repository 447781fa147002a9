// What a bundle's container without a cgroup namespace sees at its cgroup mount: its own cgroups, never the
// host's tree. On a pure v2 host its v2 cgroup bound there; where the host mounts v1 hierarchies (v1 or hybrid),
// a tmpfs with each hierarchy's directory of the container bound under the hierarchy's name (and "unified" for
// the v2 one on a hybrid host), as runc lays it out, so that programs that read their limits there (a JVM
// sizing its heap, systemd) find them.
#pragma once

#include <functional>
#include <string>

#include "common/error.h"
#include "common/fd.h"

namespace kiln::runtime {

/// In the child, once in its cgroups, before pivot_root: fills the cgroup mount at (a /proc/self/fd path of the
/// target, inside the root) with the calling process's own cgroups, read from /proc/self/cgroup; a hierarchy
/// where it is at the root shows an empty directory. reopen opens the target again (the mount now on top of it);
/// flags: the mount's (MS_RDONLY...).
Status mount_own_cgroups(const std::string& at, const std::function<Result<UniqueFd>()>& reopen, unsigned long flags);

}  // namespace kiln::runtime
