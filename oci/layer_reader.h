// A layer blob read as the tar it holds: decompressed (gzip, zstd or none, told by its first bytes) and both
// streams hashed, the blob's for its digest and the tar's for its diffID.
#pragma once

#include <memory>

#include "cas/digest.h"
#include "common/error.h"

namespace kiln::oci {

/// Decompression and hashing run on a thread of their own, a few chunks ahead of the reader, so they overlap with
/// what the reader does with the tar (making files). Where no thread can start, the same work runs inline.
class LayerReader {
 public:
  /// ahead = false decodes inline, as where no thread can start (and tests of that path).
  explicit LayerReader(int fd, bool ahead = true);
  ~LayerReader();
  /// Read the first bytes, choose the decompressor, start the thread.
  Status open();
  /// The next piece of the tar, valid until the next call; 0 at its end.
  Result<size_t> next(const void** data);
  /// Read to the end of the blob: what follows the tar's end marker is part of both hashes.
  Status drain();
  /// After drain (or next returned 0): the hashes of the whole blob and of the tar.
  cas::Digest blob_digest();
  cas::Digest tar_digest();

 private:
  struct Impl;
  std::unique_ptr<Impl> m;
};

}  // namespace kiln::oci
