// Deterministic PAX tar of a directory tree (sorted, no atime/ctime; owners, modes, links, devices and file
// capabilities kept).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/symbolic_mode.h"
#include "oci/compress.h"

namespace kiln::oci {

struct TarOptions {
  /// Clamp every mtime to at most this (SOURCE_DATE_EPOCH).
  std::optional<int64_t> clamp_mtime;
  /// Treat the tree as an overlay upperdir: 0/0 char devices → .wh.NAME, opaque dirs → .wh..wh..opq.
  bool overlay_upper = false;
  /// Prefix every entry path with this (e.g. "" or "app/").
  std::string prefix;
};

/// Ownership and mode forced onto entries (COPY --chown/--chmod).
struct EntryOverrides {
  std::optional<uint32_t> uid, gid;
  std::optional<uint32_t> mode;             ///< permission bits (--chmod=755)
  std::optional<SymbolicMode> mode_change;  ///< --chmod=u+x: applied to each entry's own bits
  /// Leave out even security.capability (files from the build context: BuildKit's receiver chowns each file
  /// after setting its xattrs, and the chown drops the capability).
  bool drop_xattrs = false;

  /// The permission bits an entry of this mode gets (a symlink keeps its own).
  uint32_t mode_of(mode_t st_mode) const {
    if (S_ISLNK(st_mode)) return st_mode & 07777;
    if (mode) return *mode;
    return mode_change ? mode_change->apply(st_mode) : st_mode & 07777;
  }
};

/// Metadata of a directory entry made up by the writer (parents of a COPY destination).
struct DirMeta {
  uint32_t mode = 0755, uid = 0, gid = 0;
  int64_t mtime = 0;
};

/// An open tar stream that entries are added to one by one.
class TarStream;
/// Write the tree under dir as a tar stream to out. Entries are sorted by path, so the same tree gives the same bytes.
Status write_tar(const std::string& dir, const TarOptions& opts, const Sink& out);

class TarStream {
 public:
  TarStream(const TarOptions& opts, Sink out);
  ~TarStream();
  TarStream(const TarStream&) = delete;
  TarStream& operator=(const TarStream&) = delete;
  /// Add host_path (never following a final symlink) as archive_path; a directory brings its children,
  /// sorted, those for which include(relative path below host_path) is true.
  Status add(const std::string& host_path, const std::string& archive_path, const EntryOverrides& ov = {},
             const std::function<bool(const std::string&)>& include = {});
  /// From now on, read what is added as an overlay upperdir (TarOptions::overlay_upper), or stop.
  void set_whiteouts(bool on);
  /// Add a directory entry that exists on no disk.
  Status add_dir(const std::string& archive_path, const DirMeta& meta);
  /// Finish the archive.
  Status close();

 private:
  friend Status write_tar(const std::string& dir, const TarOptions& opts, const Sink& out);
  struct Impl;
  std::unique_ptr<Impl> m;
};

/// Write the tree under dir as a tar stream to out. Entries are sorted by path, so the same tree gives the same bytes.
Status write_tar(const std::string& dir, const TarOptions& opts, const Sink& out);

}  // namespace kiln::oci
