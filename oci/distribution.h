// kiln pull and kiln push: images between the store and a registry, every byte verified against its digest.
#pragma once

#include <functional>
#include <ostream>
#include <string>

#include "oci/image_store.h"
#include "oci/progress.h"
#include "oci/reference.h"
#include "oci/registry.h"

namespace kiln::oci {

struct TransferOptions {
  RegistryOptions registry;
  std::string platform = "linux/amd64";
  bool all_platforms = false;  ///< pull: every manifest of an index (stored; linux/amd64 is what runs)
  bool quiet = false;
  Progress::Mode progress = Progress::Mode::lines;  ///< live: bars redrawn on a terminal (quiet wins)
  int jobs = 4;                                     ///< blobs transferred at once
  /// pull: unpack each layer of the image into its layer tree while it downloads (for a run or a build, which
  /// need the trees next). Not with all_platforms.
  bool unpack = false;
};

/// Pull ref into the store and tag it: from its registry's mirrors first, at the location registries.conf
/// moves it to, insecure as it says (refused when it is blocked there). Blobs already in the store are not downloaded
/// again; a blob whose bytes do not match its digest, a truncated body or a manifest over 4 MiB is refused with nothing
/// committed. Returns the manifest digest (of what the tag points at).
Result<std::string> pull_image(ImageStore& images, const Reference& ref, const TransferOptions& opts,
                               std::ostream& out);

/// Pull a name as podman does: a short name, with unqualified-search-registries in registries.conf, from each
/// search registry in turn until one has it. Returns the full reference it was stored under.
Result<std::string> pull_named(ImageStore& images, const std::string& name, const TransferOptions& opts,
                               std::ostream& out);

/// Push img to dest: blobs the registry has are skipped, blobs known in another repository of the registry are
/// mounted, large ones go up in chunks; then the manifest with its exact bytes (an index with all of its
/// manifests when the store has them all). Returns the pushed digest.
Result<std::string> push_image(ImageStore& images, const Image& img, const Reference& dest, const TransferOptions& opts,
                               std::ostream& out);

/// Pulls ref into the store some other way than pull_image in this process (the static kiln's dynamic half).
using Puller = std::function<Status(const Reference& ref)>;

/// Resolve name in the store, pulling it first when policy says so: "missing" (default), "always", "never".
/// IDs are never pulled. puller, when set, does the pulling instead of pull_image (opts and out then unused).
Result<Image> resolve_or_pull(ImageStore& images, const std::string& name, const std::string& policy,
                              const TransferOptions& opts, std::ostream& out, const Puller& puller = {});

}  // namespace kiln::oci
