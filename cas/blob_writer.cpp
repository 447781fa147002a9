// Streaming blob ingest.
#include "cas/blob_writer.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kiln::cas {

Result<BlobWriter> BlobWriter::create(const std::string& tmp_dir, const std::string& blobs_dir) {
  std::string tmpl = tmp_dir + "/blob-XXXXXX";
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return sys_error("create temp file in " + tmp_dir);
  ::fchmod(fd, 0644);
  return BlobWriter(UniqueFd(fd), tmpl, blobs_dir);
}

BlobWriter::BlobWriter(BlobWriter&& o) noexcept
    : m_fd(std::move(o.m_fd)),
      m_tmp(std::move(o.m_tmp)),
      m_blobs_dir(std::move(o.m_blobs_dir)),
      m_hasher(std::move(o.m_hasher)),
      m_done(o.m_done) {
  o.m_done = true;
}

BlobWriter::~BlobWriter() { discard(); }

void BlobWriter::discard() {
  if (m_done) return;
  m_done = true;
  m_fd.reset();
  ::unlink(m_tmp.c_str());
}

Status BlobWriter::write(const void* data, size_t len) {
  m_hasher.update(data, len);
  if (auto st = write_all(m_fd.get(), data, len); !st) {
    if (st.error().sys_errno == ENOSPC) st.error().message = "no space left on device";
    return st.error().context("writing blob");
  }
  return {};
}

Result<BlobInfo> BlobWriter::commit(const std::optional<Digest>& expected, int64_t expected_size) {
  uint64_t size = m_hasher.bytes();
  Digest got = m_hasher.finish();
  if (expected_size >= 0 && static_cast<uint64_t>(expected_size) != size) {
    discard();
    return make_error(ErrorCode::corrupt, "blob " + (expected ? expected->str() : got.str()) + " has " +
                                              std::to_string(size) + " bytes, expected " +
                                              std::to_string(expected_size));
  }
  if (expected && *expected != got) {
    discard();
    return make_error(ErrorCode::corrupt,
                      "blob content does not match its digest: expected " + expected->str() + ", got " + got.str());
  }
  std::string final_path = m_blobs_dir + "/" + got.hex();
  struct stat st;
  if (::stat(final_path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) == size) {
    discard();  // dedup: the same bytes are already there
    return BlobInfo{got, size};
  }
  if (::fsync(m_fd.get()) < 0) {
    int e = errno;
    discard();
    return sys_error("fsync blob", e);
  }
  m_fd.reset();
  if (::rename(m_tmp.c_str(), final_path.c_str()) < 0) {
    int e = errno;
    discard();
    return sys_error("publish blob " + got.str(), e);
  }
  m_done = true;
  TRY(fsync_dir(m_blobs_dir));
  return BlobInfo{got, size};
}

}  // namespace kiln::cas
