// Resolving "user[:group]" against the container's own /etc/passwd and /etc/group.
#pragma once

#include <sys/types.h>
#include <string>
#include <vector>

#include "common/error.h"

namespace kiln::runtime {

struct ResolvedUser {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  ///< supplementary groups from /etc/group
  std::string home = "/";
};

/// Resolve spec ("", "name", "uid", "name:group", "uid:gid") with the given file contents (empty if absent).
/// A numeric uid missing from passwd is allowed (gid 0), as docker does; an unknown name is an error.
Result<ResolvedUser> resolve_user(const std::string& spec, const std::string& passwd, const std::string& group);

/// The user name passwd (an /etc/passwd's text) gives uid, or "#UID" when it has none, as runc's list shows owners.
std::string owner_name(uid_t uid, const std::string& passwd);

}  // namespace kiln::runtime
