// Remembered file digests: (size, mtime, ctime, inode) → sha256, so an unchanged context is never re-read.
#pragma once

#include <sys/stat.h>

#include <string>
#include <unordered_map>

#include "cas/digest.h"

namespace kiln::builder {

/// Kept in the store's private folder between builds, as BuildKit keeps its content cache.
class StatCache {
 public:
  explicit StatCache(std::string path) : m_path(std::move(path)) {}
  /// The cache file of one context directory in dir: each context has its own, so a build reads only the
  /// entries of its own context (a store that built from many contexts no longer loads them all each time).
  static std::string path_for(const std::string& dir, const std::string& context_dir);
  /// Load what an earlier build saved (a missing or damaged file is an empty cache).
  void load();
  /// Save if anything changed (atomic replace).
  Status save();
  /// The content digest of a regular file, hashed only if its stat differs from what was remembered.
  Result<cas::Digest> digest(const std::string& path, const struct stat& st);
  size_t hashed() const { return m_hashed; }

 private:
  struct Entry {
    int64_t size, mtime_ns, ctime_ns;
    uint64_t ino;
    std::string hex;
  };
  std::string m_path;
  std::unordered_map<std::string, Entry> m_entries;
  bool m_dirty = false;
  size_t m_hashed = 0;
};

}  // namespace kiln::builder
