// Safe layer extraction: every entry is resolved beneath the target root; whiteouts applied or kept for overlay.
#pragma once

#include <string>

#include <optional>

#include "cas/digest.h"
#include "common/error.h"
#include "oci/media_types.h"

namespace kiln::oci {

enum class Whiteouts {
  apply,    ///< flatten: .wh.NAME deletes NAME, .wh..wh..opq empties the directory of lower content
  overlay,  ///< per-layer tree for overlayfs: .wh.NAME → 0/0 char device, opaque → trusted.overlay.opaque=y
            ///< (user.overlay.opaque rootless)
};

struct ExtractOptions {
  Whiteouts whiteouts = Whiteouts::apply;
  std::string label;  ///< names the layer in errors ("layer sha256:…")
  /// When set, the bytes read from fd must hash to this, or the extraction fails (the caller discards dest).
  std::optional<cas::Digest> verify;
  /// When set, the uncompressed tar must hash to this (the config's diffID), or the extraction fails.
  std::optional<cas::Digest> diff_id;
};

/// Extract the (possibly gzip/zstd compressed, told by its first bytes) tar read from fd into the existing directory
/// dest. Refuses, naming the entry, any entry that would create or change something outside dest:
/// `..` components, parents that are symlinks leading out (absolute or relative), hardlinks to outside.
Status extract_tar(int fd, const std::string& dest, const ExtractOptions& opts);

}  // namespace kiln::oci
