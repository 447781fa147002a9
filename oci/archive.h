// Image archives: oci-archive (a tarred OCI layout) and docker-archive (as `docker save` writes it).
#pragma once

#include <string>
#include <vector>

#include "oci/image_store.h"

namespace kiln::oci {

enum class ArchiveFormat { oci, docker };

/// Load every image of an archive read from fd (plain or compressed tar). label names the input in errors.
/// Returns the references (or IDs, for untagged images) loaded.
Result<std::vector<std::string>> load_archive(ImageStore& images, int fd, const std::string& label);

/// Write the images to fd as one archive in the given format. Output is deterministic (fixed mtimes, owners).
Status save_archive(ImageStore& images, const std::vector<Image>& list, ArchiveFormat format, int fd);

/// The short form docker prints: "debian:12" for docker.io/library/debian:12.
std::string familiar_name(const std::string& full_ref);

}  // namespace kiln::oci
