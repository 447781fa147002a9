// Garbage collection and consistency checking of the store.
#pragma once

#include <string>
#include <vector>

#include "cas/layer_trees.h"

namespace kiln::cas {

/// What gc removed.
struct GcReport {
  size_t blobs = 0;
  uint64_t blob_bytes = 0;
  size_t trees = 0;
  uint64_t tree_bytes = 0;
  size_t temp_files = 0;
};

/// Remove blobs and layer trees no tag (nor an extra root) reaches, and stale temp files.
/// Takes the store's gc lock exclusively: it waits for running imports/builds/pulls, which hold it shared
/// (or, with wait=false, returns a conflict error at once while any runs).
Result<GcReport> collect_garbage(Store& store, const std::vector<IndexEntry>& extra_roots = {}, bool wait = true);

/// Re-hash every blob, check every reference and layer tree. Returns one line per problem.
Result<std::vector<std::string>> check_store(const Store& store, const std::vector<IndexEntry>& extra_roots = {});

}  // namespace kiln::cas
