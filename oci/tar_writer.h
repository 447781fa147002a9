// Deterministic PAX tar of a directory tree (sorted, no atime/ctime, owners/modes/xattrs/links/devices kept).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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

/// Write the tree under dir as a tar stream to out. Entries are sorted by path, so the same tree gives the same bytes.
Status write_tar(const std::string& dir, const TarOptions& opts, const Sink& out);

}  // namespace kiln::oci
