// Streaming blob ingest: hash while writing a temp file, verify, fsync, rename into place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cas/digest.h"
#include "common/fd.h"

namespace kiln::cas {

/// What a committed blob is: its digest and size in bytes.
struct BlobInfo {
  Digest digest;
  uint64_t size = 0;
};

/// Writes one blob. Until commit() succeeds nothing is visible in the store; the destructor discards the temp file.
class BlobWriter {
 public:
  /// A writer whose temp file lives in tmp_dir and whose blob lands in blobs_dir/<hex>.
  static Result<BlobWriter> create(const std::string& tmp_dir, const std::string& blobs_dir);
  BlobWriter(BlobWriter&&) noexcept;
  BlobWriter& operator=(BlobWriter&&) = delete;
  ~BlobWriter();

  Status write(const void* data, size_t len);
  uint64_t size() const { return m_hasher.bytes(); }
  /// Verify (when expected digest or size are given), fsync and publish. An existing blob is success.
  Result<BlobInfo> commit(const std::optional<Digest>& expected = std::nullopt, int64_t expected_size = -1);

 private:
  BlobWriter(UniqueFd fd, std::string tmp, std::string blobs_dir)
      : m_fd(std::move(fd)), m_tmp(std::move(tmp)), m_blobs_dir(std::move(blobs_dir)) {}
  void discard();
  UniqueFd m_fd;
  std::string m_tmp;
  std::string m_blobs_dir;
  Sha256 m_hasher;
  bool m_done = false;
};

}  // namespace kiln::cas
