// Tarball import: decompress → (libarchive header walk) → layer stream, one pass.
#include "oci/tar_import.h"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "oci/compress.h"
#include "oci/tar_check.h"

namespace kiln::oci {

namespace {

/// Feeds libarchive from the decompressor; every byte libarchive consumes also goes to the layer.
struct Tee {
  Decompressor* in;
  LayerStream* out;
  std::vector<char> buf = std::vector<char>(1 << 17);
  bool failed = false;
  Error error;
};

la_ssize_t tee_read(struct archive*, void* client, const void** data) {
  auto* t = static_cast<Tee*>(client);
  auto n = t->in->read(t->buf.data(), t->buf.size());
  if (!n) {
    t->failed = true;
    t->error = std::move(n).error();
    return -1;
  }
  if (*n > 0)
    if (auto st = t->out->write(t->buf.data(), *n); !st) {
      t->failed = true;
      t->error = std::move(st).error();
      return -1;
    }
  *data = t->buf.data();
  return static_cast<la_ssize_t>(*n);
}

}  // namespace

Result<StoredLayer> import_tarball(const cas::Store& store, int fd, media::Compression out, const std::string& label) {
  // Sniff the first bytes to pick a decompressor, then replay them.
  unsigned char head[4];
  size_t got = 0;
  while (got < sizeof head) {
    ssize_t n = ::read(fd, head + got, sizeof head - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read " + label);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got == 0) return make_error(ErrorCode::corrupt, label + " is empty: expected a tar archive");
  size_t replayed = 0;
  auto source = [&](void* buf, size_t len) -> Result<size_t> {
    if (replayed < got) {
      size_t n = std::min(len, got - replayed);
      std::memcpy(buf, head + replayed, n);
      replayed += n;
      return n;
    }
    for (;;) {
      ssize_t n = ::read(fd, buf, len);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("read " + label);
      return static_cast<size_t>(n);
    }
  };
  auto dec = Decompressor::create(sniff_compression(head, got), source);
  auto layer = TRY(LayerStream::create(store, out));
  Tee tee{dec.get(), layer.get(), std::vector<char>(1 << 17), false, Error{}};
  std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(a.get());
  auto fail = [&](const std::string& what) -> Error {
    if (tee.failed) return tee.error.context(label);
    return make_error(ErrorCode::corrupt, label + ": " + what);
  };
  if (archive_read_open(a.get(), &tee, nullptr, tee_read, nullptr) != ARCHIVE_OK)
    return fail(std::string("not a tar archive: ") + archive_error_text(a.get()));
  size_t entries = 0;
  TarPathCheck paths;
  for (;;) {
    struct archive_entry* e;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return fail(archive_error_text(a.get()));
    ++entries;
    if (auto st = paths.check(e); !st) return std::move(st).error().context(label);
    if (archive_read_data_skip(a.get()) < ARCHIVE_WARN) return fail(archive_error_text(a.get()));
  }
  if (entries == 0) return fail("the tar archive has no entries");
  // Trailing zero blocks after the end marker are part of the stream too.
  for (;;) {
    size_t n = TRY_CTX(dec->read(tee.buf.data(), tee.buf.size()), label);
    if (n == 0) break;
    TRY(layer->write(tee.buf.data(), n));
  }
  return layer->commit();
}

}  // namespace kiln::oci
