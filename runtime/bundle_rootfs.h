// A bundle's root filesystem, made in the container's new mount namespace: the root bound onto itself, the
// config's mounts (every target opened inside the root, so no symlink in the bundle leads out of it), /dev's
// nodes, pivot_root, masked and read-only paths, a read-only root, sysctls and the host name.
#pragma once

#include <functional>

#include "runtime/bundle_config.h"

namespace kiln::runtime {

/// Mount flags and data of a mount's options ("ro", "nosuid", "rbind", "mode=755", …).
struct MountOptions {
  unsigned long flags = 0;        ///< MS_* set
  unsigned long clear = 0;        ///< MS_* an option turned off ("rw", "suid", …)
  unsigned long propagation = 0;  ///< MS_SHARED/SLAVE/PRIVATE/UNBINDABLE, with MS_REC for the r-forms
  bool bind = false, recursive = false;
  bool tmpcopyup = false;  ///< runc's extension: a tmpfs starts with what the directory under it held
  std::string data;  ///< the rest, comma-joined, for the filesystem
};
MountOptions parse_mount_options(const std::vector<std::string>& options);

/// In the child, in its new mount namespace, before pivot_root: everything up to and including pivot_root,
/// then what needs the new root (masked and read-only paths, read-only root, sysctls, hostname). before_pivot
/// runs once the mounts are made, while the runtime's filesystem is still in view (the create hooks).
Status setup_bundle_rootfs(const BundleConfig& c, const std::function<Status()>& before_pivot);

}  // namespace kiln::runtime
