// Unpacked layer trees: each layer extracted once into <root>/kiln/layers/<diffID hex>/root, shared read-only.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cas/store.h"

namespace kiln::cas {

/// What an extraction produced; recorded beside the tree so fsck can check it.
struct TreeInfo {
  uint64_t entries = 0;  ///< files, dirs, links, devices below the root
  uint64_t bytes = 0;    ///< sum of regular file sizes
};

/// The set of unpacked layer trees of a store.
class LayerTrees {
 public:
  explicit LayerTrees(const Store& store) : m_base(store.private_dir() + "/layers"), m_store(&store) {}
  /// The folder holding a tree: <base>/<hex> with root/ and info.json inside.
  std::string dir(const Digest& diff_id) const { return m_base + "/" + diff_id.hex(); }
  /// The tree itself, what overlay mounts as a lowerdir.
  std::string root(const Digest& diff_id) const { return dir(diff_id) + "/root"; }
  bool has(const Digest& diff_id) const;
  /// The tree for diff_id, extracting it first with fill(empty_dir) if absent. Concurrent callers are safe:
  /// each fills its own temp dir and the first rename wins.
  Result<std::string> ensure(const Digest& diff_id, const std::function<Result<TreeInfo>(const std::string&)>& fill);
  Result<std::vector<Digest>> list() const;
  Result<TreeInfo> read_info(const Digest& diff_id) const;
  /// Walk a tree and count what is there now.
  static Result<TreeInfo> measure(const std::string& root);
  Status remove(const Digest& diff_id) const;
  const std::string& base() const { return m_base; }

 private:
  std::string m_base;
  const Store* m_store;  ///< its tmp_dir() is read at each use: a build worker moves it
};

}  // namespace kiln::cas
