// Remembered file digests: (size, mtime, ctime, inode) → sha256, so an unchanged context is never re-read.
#pragma once

#include <sys/stat.h>

#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cas/digest.h"

namespace kiln::builder {

/// Kept in the store's private folder between builds, as BuildKit keeps its content cache.
///
/// The file lists its entries in the order the last build asked for them, and a build that asks in the same order
/// (an unchanged Buildfile walking an unchanged context) finds each one at a cursor: one string compare, no hash
/// table and no allocation per file. Anything out of order is found through an index made at its first use.
class StatCache {
 public:
  /// temp_dir: where save makes its temp file (the store's, which gc sweeps), "" for beside the file.
  explicit StatCache(std::string path, std::string temp_dir = {})
      : m_path(std::move(path)), m_temp_dir(std::move(temp_dir)) {}
  /// The cache file of one context directory in dir: each context has its own, so a build reads only the
  /// entries of its own context (a store that built from many contexts no longer loads them all each time).
  static std::string path_for(const std::string& dir, const std::string& context_dir);
  /// Load what an earlier build saved (a missing or damaged file is an empty cache).
  void load();
  /// Save if anything changed (atomic replace): what this build asked for in its order, then the rest.
  Status save();
  /// The content digest of a regular file, hashed only if its stat differs from what was remembered.
  Result<cas::Digest> digest(const std::string& path, const struct stat& st);
  size_t hashed() const { return m_hashed; }

 private:
  struct Entry {
    std::string_view path;  // into m_text, or into m_fresh_paths
    int64_t size, mtime_ns, ctime_ns;
    uint64_t ino;
    std::string_view hex;
  };
  /// The loaded entry for path (nullptr when none), advancing the cursor on an in-order hit.
  Entry* find_loaded(std::string_view path);
  /// Keep what this build hashed: e's path and hex then point into this cache's own storage.
  void remember(const std::string& path, Entry e, const cas::Digest& d);
  std::string m_path, m_temp_dir;
  std::string m_text;                                    // the loaded file; loaded entries point into it
  std::vector<Entry> m_loaded;                           // in file order
  std::vector<bool> m_used;                              // per loaded entry: asked for by this build (or replaced)
  size_t m_cursor = 0;                                   // where the next in-order request should be
  std::unordered_map<std::string_view, size_t> m_index;  // loaded path → position, made on the first miss
  std::deque<std::string> m_fresh_paths, m_fresh_hex;    // what this build hashed (a deque: the views stay valid)
  std::vector<Entry> m_fresh;
  std::unordered_map<std::string_view, size_t> m_fresh_index;
  std::vector<std::pair<bool, size_t>> m_order;  // this build's requests: (fresh?, position)
  bool m_dirty = false;
  size_t m_hashed = 0;
};

}  // namespace kiln::builder
