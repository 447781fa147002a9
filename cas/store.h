// The store: an OCI image layout (blobs + index.json tags) plus kiln's private folders beside it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cas/blob_writer.h"
#include "cas/lock.h"

namespace kiln::cas {

/// One entry of index.json: a manifest descriptor, tagged by its ref.name annotation (empty = untagged).
struct IndexEntry {
  std::string media_type;
  Digest digest;
  uint64_t size = 0;
  std::string ref;  ///< org.opencontainers.image.ref.name: full normalized reference
};

/// The content-addressable store rooted at one directory.
class Store {
 public:
  /// Open (creating if needed) the layout at root.
  static Result<Store> open(const std::string& root);
  /// --root, else $KILN_ROOT, else /var/lib/kiln as root, else $XDG_DATA_HOME/kiln.
  static std::string default_root();

  const std::string& root() const { return m_root; }
  std::string blob_path(const Digest& d) const { return m_root + "/blobs/sha256/" + d.hex(); }
  std::string blobs_dir() const { return m_root + "/blobs/sha256"; }
  /// kiln's private folder (locks, temp, unpacked layers, caches): <root>/kiln.
  std::string private_dir() const { return m_root + "/kiln"; }
  /// Where temp files and dirs are made before they are renamed into place: <root>/kiln/tmp, or the folder
  /// set by keep_temp_in.
  const std::string& tmp_dir() const { return m_tmp; }
  /// Make this process's temp files in dir (on the store's filesystem) instead: a build worker's, so that one
  /// killed half way leaves them in its build's temp dir, which the build removes.
  void keep_temp_in(std::string dir) { m_tmp = std::move(dir); }

  bool has_blob(const Digest& d) const;
  /// A blob's bytes, verified against its digest.
  Result<std::string> read_blob(const Digest& d, size_t max_size = 16u << 20) const;
  Result<UniqueFd> open_blob(const Digest& d) const;
  Result<uint64_t> blob_size(const Digest& d) const;
  /// Store bytes as a blob (verified against expected when given).
  Result<BlobInfo> put_blob(std::string_view bytes, const std::optional<Digest>& expected = std::nullopt);
  /// Start a streaming blob.
  Result<BlobWriter> new_blob() const;

  /// Entries of index.json.
  Result<std::vector<IndexEntry>> list() const;
  /// Point ref at a manifest, replacing what it pointed at (atomic, under the index lock).
  Status set_tag(const std::string& ref, const std::string& media_type, const BlobInfo& manifest);
  /// Remove a tag; not_found if absent.
  Status remove_tag(const std::string& ref);
  /// Remove untagged entries for a manifest digest.
  Status remove_untagged(const Digest& manifest);
  /// Read-modify-write index.json entries atomically under the index lock.
  Status update_index(const std::function<Status(std::vector<IndexEntry>&)>& fn);

  /// Held by every command that adds to the store, so gc cannot sweep its new blobs underneath it.
  Result<FileLock> writer_lock() const;
  /// Held by gc: waits for running writers, keeps new ones out.
  Result<FileLock> gc_lock() const;

 private:
  explicit Store(std::string root) : m_root(std::move(root)), m_tmp(m_root + "/kiln/tmp") {}
  Status init_layout();
  Status write_index(const std::vector<IndexEntry>& entries);
  std::string m_root;
  std::string m_tmp;
};

/// Write bytes to path atomically: temp file in the same dir, fsync, rename, fsync the dir. Not durable
/// (no fsyncs) is for state that dies with the machine anyway, like a running container's. With temp_dir (on
/// path's filesystem) the temp file is made there instead: a store's tmp_dir, which gc sweeps and a build
/// removes, so a writer killed half way leaves nothing beside the file.
Status write_file_atomic(const std::string& path, std::string_view bytes, bool durable = true,
                         const std::string& temp_dir = {});

}  // namespace kiln::cas
