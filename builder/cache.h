// The build cache: per step, keyed by everything the step depends on; kept in <store>/kiln/cache/steps.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cas/store.h"
#include "oci/layer_stream.h"

namespace kiln::builder {

/// What a finished step left: its layer (if it made one) and its history time, so a rebuild is identical.
struct CacheRecord {
  std::optional<oci::StoredLayer> layer;
  std::string created;
};

class BuildCache {
 public:
  explicit BuildCache(const cas::Store& store) : m_dir(store.private_dir() + "/cache/steps"), m_store(store) {}
  /// The record for key, if any and if its layer blob is still in the store.
  std::optional<CacheRecord> get(const std::string& key) const;
  Status put(const std::string& key, const CacheRecord& rec) const;
  /// Layer blobs the cache references, as gc roots (so `kiln gc` keeps them; `kiln gc --cache` drops them).
  Result<std::vector<cas::IndexEntry>> gc_roots() const;
  /// Remove every record; returns how many. The remembered file digests of build contexts (cache/stat) go too:
  /// the next build of each context reads its files once again.
  Result<size_t> prune() const;

 private:
  std::string m_dir;
  const cas::Store& m_store;
};

}  // namespace kiln::builder
