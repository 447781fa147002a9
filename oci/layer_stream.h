// One pass from tar bytes to a stored layer blob: diffID of the tar, compression, blob digest.
#pragma once

#include <memory>

#include "cas/store.h"
#include "oci/media_types.h"

namespace kiln::oci {

/// A layer as stored: the compressed blob, the diffID of its uncompressed tar, its media type.
struct StoredLayer {
  cas::BlobInfo blob;
  cas::Digest diff_id;
  std::string media_type;
};

/// Takes an uncompressed tar stream. The caller's thread hashes it (diffID); a worker thread compresses,
/// hashes the compressed bytes and writes the blob, so the two halves overlap on two cores.
class LayerStream {
 public:
  static Result<std::unique_ptr<LayerStream>> create(const cas::Store& store, media::Compression c);
  ~LayerStream();
  Status write(const void* data, size_t len);
  /// Finish compression and publish the blob.
  Result<StoredLayer> commit();

 private:
  struct Impl;
  explicit LayerStream(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m;
};

}  // namespace kiln::oci
