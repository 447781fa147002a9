// kiln-runtime list: the containers under a state root, shown as runc shows them (a table, or JSON that
// containerd's go-runc reads).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/bundle_state.h"

namespace kiln::runtime {

struct BundleListing {
  BundleState state;
  std::string status;  ///< created, running, paused or stopped
  uid_t owner = 0;     ///< who owns the container's state directory
};

/// Every container under root whose state can be read, sorted by id. A missing root is an empty list; an entry
/// that is not a container (or is being deleted meanwhile) is left out, as runc leaves it out.
Result<std::vector<BundleListing>> list_bundles(const std::string& root);

/// runc's table: ID PID STATUS BUNDLE CREATED OWNER, each column but the last as wide as its widest cell plus
/// three spaces and at least twelve. The pid of a stopped container is 0.
std::string bundle_list_table(const std::vector<BundleListing>& list, const std::string& passwd);

/// runc's JSON: one line holding an array of the spec's state objects with "owner"; "null" for no container.
std::string bundle_list_json(const std::vector<BundleListing>& list, const std::string& passwd);

}  // namespace kiln::runtime
