// The working directory docker makes when the image lacks it (`kiln run -w /new/dir`).
#pragma once

#include <string>

#include "common/error.h"

namespace kiln::runtime {

/// path as docker's filepath.Clean makes it, absolute: no ".", "..", empty parts or trailing "/" ("/" for none).
std::string clean_path(const std::string& path);

/// In the child, with the overlay root mounted at rootfd and kiln's scratch tmpfs at scratchfd: make the part of
/// cwd the root lacks in the top layer (root-owned, 0755), the existing directories on the way copied there with
/// the mode, owner and times the container sees, the path resolved inside the root as the container resolves it.
/// True when the top layer changed, and the overlay must be mounted again (a mounted overlay does not follow
/// changes to its layers). False when cwd is there, or unreachable for a reason chdir then reports.
Result<bool> make_missing_workdir(int rootfd, int scratchfd, const std::string& cwd);

/// In the child after pivot_root, over a writable root (a build's RUN): cwd made as runc makes it there, with
/// Go's os.MkdirAll on the path as written: every prefix that does not resolve is made, root-owned, 0755, so
/// WORKDIR /a/b/../c leaves /a/b as well, as BuildKit's RUN does. A part that exists as a file is an error.
Status make_workdir_as_written(const std::string& cwd);

}  // namespace kiln::runtime
