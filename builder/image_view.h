// Looking inside the image being built: does a path exist, is it a directory, what are its owner and mode,
// what does /etc/passwd say. Layers are unpacked into the store's shared trees on first look.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <vector>

#include "oci/image_store.h"

namespace kiln::builder {

/// The layers of a stage so far, top-most last, with lazy access to their unpacked trees.
class ImageView {
 public:
  ImageView(oci::ImageStore& images, std::vector<oci::Descriptor> layers, std::vector<cas::Digest> diff_ids)
      : m_images(images), m_layers(std::move(layers)), m_diff_ids(std::move(diff_ids)) {}
  /// stat of path (relative, no leading '/') in the merged view, honouring whiteouts; nullopt if absent. Its
  /// parents are resolved inside the image (resolve), never through the host's file system.
  Result<std::optional<struct stat>> lookup(const std::string& path);
  /// path with the image's symlinks followed inside the image, as the container would see it: absolute
  /// targets from the image's root, `..` never above it; the last component too when follow_last. The result
  /// is relative ("" for the root); a missing component ends the walk and the rest is appended as it is.
  Result<std::string> resolve(const std::string& path, bool follow_last);
  /// A file's content from the merged view (empty optional if absent).
  Result<std::optional<std::string>> read(const std::string& path);
  /// The unpacked trees, lowest first (extracting those not yet unpacked).
  Result<std::vector<std::string>> roots();

 private:
  oci::ImageStore& m_images;
  std::vector<oci::Descriptor> m_layers;
  std::vector<cas::Digest> m_diff_ids;
  std::optional<std::vector<std::string>> m_roots;
  /// lstat in the merged view of a path whose parents are already resolved; the layer root it was found in.
  Result<std::optional<struct stat>> lookup_resolved(const std::string& path, std::string* layer = nullptr);
};

}  // namespace kiln::builder
