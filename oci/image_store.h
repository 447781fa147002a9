// Images in the store: resolve a name or ID, read manifest and config, commit new images, unpack layer trees.
#pragma once

#include <string>
#include <vector>

#include "cas/layer_trees.h"
#include "cas/store.h"
#include "oci/image.h"
#include "oci/layer_stream.h"

namespace kiln::oci {

/// A resolved image: its index entry, the manifest and config, each with the exact stored bytes.
struct Image {
  std::string ref;        ///< the tag it was found by, empty if found by ID
  cas::IndexEntry entry;  ///< what index.json points at (a manifest or an index)
  cas::Digest manifest_digest;
  std::string manifest_bytes;
  Manifest manifest;
  std::string config_bytes;
  ImageConfig config;
  /// Image ID as docker shows it: the config digest.
  const cas::Digest& id() const { return manifest.config.digest; }
};

/// Image-level operations over a store.
class ImageStore {
 public:
  explicit ImageStore(cas::Store& store) : m_store(store), m_trees(store) {}
  cas::Store& store() { return m_store; }
  cas::LayerTrees& trees() { return m_trees; }

  /// Find an image by reference (normalized), or by a full or 12+ hex prefix of its config or manifest digest.
  Result<Image> resolve(const std::string& name);
  /// Read an index entry into an Image (picks linux/amd64 from an index).
  Result<Image> load(const cas::IndexEntry& entry);
  /// All tagged and untagged images.
  Result<std::vector<Image>> list();

  /// Store config + manifest for these layers and point each ref at it. Returns the manifest blob.
  Result<cas::BlobInfo> commit(const ImageConfig& config, const std::vector<StoredLayer>& layers,
                               const std::vector<std::string>& refs);
  /// Store the config bytes and a manifest over existing layer descriptors; point refs at it.
  Result<cas::BlobInfo> commit_raw(const std::string& config_bytes, const std::vector<Descriptor>& layers,
                                   const std::vector<std::string>& refs);

  /// The unpacked tree of each layer (extracting those not yet unpacked), lowest first.
  Result<std::vector<std::string>> layer_roots(const Image& img);
  /// Flatten the image's layers into dest (an empty directory) with whiteouts applied.
  Status flatten(const Image& img, const std::string& dest);

 private:
  Result<cas::BlobInfo> tag_manifest(const std::string& bytes, const std::vector<std::string>& refs);
  cas::Store& m_store;
  cas::LayerTrees m_trees;
};

}  // namespace kiln::oci
