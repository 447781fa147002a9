// Streaming compression (gzip via zlib, zstd) and decompression of layer blobs.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/error.h"
#include "oci/media_types.h"

namespace kiln::oci {

/// Where bytes go next.
using Sink = std::function<Status(const void* data, size_t len)>;

/// Compresses what it is given and passes the output on. Deterministic: same input → same bytes.
class Compressor {
 public:
  virtual ~Compressor() = default;
  virtual Status write(const void* data, size_t len) = 0;
  /// Flush the end of the stream to the sink.
  virtual Status finish() = 0;
  static std::unique_ptr<Compressor> create(media::Compression c, Sink out);
};

/// Reads decompressed bytes from a source of compressed ones.
class Decompressor {
 public:
  using Source = std::function<Result<size_t>(void* buf, size_t len)>;  ///< 0 = end of input
  virtual ~Decompressor() = default;
  /// Fill up to len bytes; 0 at the end of the stream.
  virtual Result<size_t> read(void* buf, size_t len) = 0;
  static std::unique_ptr<Decompressor> create(media::Compression c, Source in);
};

/// Guess a stream's compression from its first bytes (gzip 1f 8b, zstd 28 b5 2f fd).
media::Compression sniff_compression(const unsigned char* head, size_t len);

/// Whether deflate would gain under 1% on a gzip layer's block (already compressed bytes: media, archives,
/// random), which is then stored as is: level 1 on five 32 KiB samples spread over it gains nothing. Blocks
/// under 128 KiB are always compressed.
bool deflate_gains_nothing(const unsigned char* data, size_t len);

}  // namespace kiln::oci
