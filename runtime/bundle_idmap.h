// kiln-runtime: the maps of a container's new user namespace, written from outside it by create.
#pragma once

#include <sys/types.h>

#include <vector>

#include "common/error.h"
#include "runtime/bundle_config.h"

namespace kiln::runtime {

/// Writes linux.uidMappings and linux.gidMappings for the user namespace pid has just made. Root writes them
/// itself. An ordinary user (runc's rootless mode) writes them itself too when they map its own ids alone
/// (setgroups denied first, as the kernel then requires); any other map goes through newuidmap and newgidmap,
/// which check it against /etc/subuid and /etc/subgid. One clear error when it cannot be done.
Status map_bundle_user_namespace(pid_t pid, const std::vector<IdMapping>& uids, const std::vector<IdMapping>& gids);

}  // namespace kiln::runtime
