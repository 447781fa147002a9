// Where blobs are known to live on registries, for cross-repository mounts on push (as containers/image's
// blob info cache does): after a pull from or push to HOST/REPO, each blob of that image is recorded there.
// A push to another repository of the same host can then ask the registry to mount the blob instead of
// uploading it again.
#pragma once

#include <string>
#include <vector>

#include "cas/store.h"

namespace kiln::oci {

/// Record that the blob is in host/repo (idempotent; safe across threads and processes).
void remember_location(const cas::Store& store, const cas::Digest& blob, const std::string& host,
                       const std::string& repo);

/// Repositories of host known to hold the blob, most recent first.
std::vector<std::string> known_repositories(const cas::Store& store, const cas::Digest& blob, const std::string& host);

/// Drop the records of blobs that are no longer in the store (gc).
void forget_missing_locations(const cas::Store& store);

}  // namespace kiln::oci
