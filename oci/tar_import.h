// Store an existing tarball (plain, gzip or zstd) as one layer, checking it is a readable tar in the same pass.
#pragma once

#include <string>

#include "oci/layer_stream.h"

namespace kiln::oci {

/// Read a tar stream from fd, decompress it if needed, and store its bytes as a layer with the given compression.
/// libarchive walks every header of the stream as it passes, so a truncated or corrupt tarball is refused
/// before anything is published. label names the input in errors.
Result<StoredLayer> import_tarball(const cas::Store& store, int fd, media::Compression out, const std::string& label);

}  // namespace kiln::oci
