// What the store's tags reach: manifests → configs, layers and layer trees; indexes → manifests.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "cas/store.h"

namespace kiln::cas {

/// Everything reachable from a set of roots, with the problems met on the way.
struct Reachable {
  std::map<Digest, uint64_t> blobs;   ///< digest → size the referencing descriptor states
  std::set<Digest> trees;             ///< diffIDs named by reachable configs
  std::vector<std::string> problems;  ///< missing or malformed blobs, one line each
};

/// Walk from index entries plus extra manifest-like roots (e.g. the build cache's).
Reachable walk_reachable(const Store& store, const std::vector<IndexEntry>& roots);

}  // namespace kiln::cas
