// Who kiln runs as: root on the host, or an ordinary user (rootless), inside a user namespace of its own.
#pragma once

#include <sys/types.h>

#include <string>

namespace kiln {

/// True when this process is in the host's (initial) user namespace: /proc/self/uid_map maps every id.
/// Rootless kiln runs in a user namespace of its own, where it is root over the user's ids only.
bool in_initial_user_namespace();

/// Set (to the user's uid) by a rootless kiln before it execs itself in its user namespace.
constexpr const char* kRootlessEnv = "KILN_ROOTLESS";

/// True when kiln works for an ordinary user: not root, or root in the user namespace it made for that user
/// (kRootlessEnv). Root in someone else's user namespace (a container's) keeps root's store and run directory.
/// Decides paths and what the user is told; what the kernel allows is in_initial_user_namespace()'s.
bool rootless();

/// The host uid this process's uid 0 stands for (the user's own uid when rootless; 0 when root).
uid_t host_uid();

/// The prefix of overlayfs's own xattrs in kiln's layer trees: "trusted.overlay." for root, "user.overlay."
/// when rootless (trusted.* needs the host's CAP_SYS_ADMIN; overlay reads user.* under its userxattr option).
const char* overlay_xattr_prefix();

/// overlay_xattr_prefix() + "opaque".
std::string overlay_opaque_xattr();

/// True for overlayfs's bookkeeping under either prefix: never content of a layer, never taken from an image
/// (so root and rootless builds write the same layers, and an image cannot steer overlayfs in either).
bool is_overlay_xattr(const std::string& name);

}  // namespace kiln
