// A layer blob read as the tar it holds, decoded a few chunks ahead on a thread.
#include "oci/layer_reader.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "oci/compress.h"

namespace kiln::oci {

namespace {
constexpr size_t kChunk = 1 << 17;
constexpr int kChunks = 6;  // how far the decoder may run ahead
}  // namespace

struct LayerReader::Impl {
  int fd;
  bool ahead = true;
  unsigned char head[8];
  size_t head_len = 0, head_pos = 0;
  std::unique_ptr<Decompressor> dec;
  cas::Sha256 blob_hasher, tar_hasher;  // the decoder's alone until it is done

  // Chunks pass from the decoder to the reader through `full`, and back through `free`.
  std::vector<std::unique_ptr<char[]>> chunks;  // made when first used, not zeroed: a small layer needs two
  std::vector<size_t> lengths;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<int> full;
  std::vector<int> free;
  int current = -1;  // the chunk the reader holds
  bool done = false, stop = false;
  std::optional<Error> error;
  std::thread decoder;

  Result<size_t> read_blob(void* buf, size_t len) {
    for (;;) {
      ssize_t n = ::read(fd, buf, len);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("read");
      blob_hasher.update(buf, static_cast<size_t>(n));
      return static_cast<size_t>(n);
    }
  }

  /// Decompress into buf and hash what comes out; 0 at the end of the tar.
  Result<size_t> decode(char* buf, size_t len) {
    size_t n = TRY(dec->read(buf, len));
    tar_hasher.update(buf, n);
    return n;
  }

  /// The next piece of the tar into buf; at its end (0), the rest of the blob is read too: a decompressor stops
  /// at the end of its stream, and bytes after it are still the blob's.
  Result<size_t> produce(char* buf) {
    size_t n = TRY(decode(buf, kChunk));
    if (n == 0) {
      char sink[1 << 14];
      while (TRY(read_blob(sink, sizeof sink)) > 0) {
      }
    }
    return n;
  }

  void decode_ahead() {
    for (;;) {
      int i;
      {
        std::unique_lock<std::mutex> lk(mu);
        cv.wait(lk, [&] { return stop || !free.empty(); });
        if (stop) return;
        i = free.back();
        free.pop_back();
      }
      if (!chunks[i]) chunks[i] = std::make_unique_for_overwrite<char[]>(kChunk);  // seen by the reader via `full`
      auto n = produce(chunks[i].get());
      std::lock_guard<std::mutex> lk(mu);
      if (!n) {
        error = std::move(n).error();
        done = true;
      } else if (*n == 0) {
        done = true;
      } else {
        lengths[i] = *n;
        full.push_back(i);
      }
      cv.notify_all();
      if (done) return;
    }
  }
};

LayerReader::LayerReader(int fd, bool ahead) : m(std::make_unique<Impl>()) {
  m->fd = fd;
  m->ahead = ahead;
}

LayerReader::~LayerReader() {
  if (!m->decoder.joinable()) return;
  {
    std::lock_guard<std::mutex> lk(m->mu);
    m->stop = true;
  }
  m->cv.notify_all();
  m->decoder.join();
}

Status LayerReader::open() {
  // The whole head, or the blob's end: a socket (a layer still downloading) may give fewer bytes per read.
  while (m->head_len < sizeof m->head) {
    size_t n = TRY(m->read_blob(m->head + m->head_len, sizeof m->head - m->head_len));
    if (n == 0) break;
    m->head_len += n;
  }
  Impl* s = m.get();
  m->dec = Decompressor::create(sniff_compression(m->head, m->head_len), [s](void* buf, size_t len) -> Result<size_t> {
    if (s->head_pos < s->head_len) {
      size_t k = std::min(len, s->head_len - s->head_pos);
      std::memcpy(buf, s->head + s->head_pos, k);
      s->head_pos += k;
      return k;
    }
    return s->read_blob(buf, len);
  });
  m->chunks.resize(kChunks);
  m->lengths.assign(kChunks, 0);
  for (int i = kChunks - 1; i >= 0; --i) m->free.push_back(i);  // taken from the back: chunk 0 first, then reused
  try {
    if (m->ahead) m->decoder = std::thread([s] { s->decode_ahead(); });
  } catch (const std::system_error&) {
  }
  if (!m->decoder.joinable()) m->chunks[0] = std::make_unique_for_overwrite<char[]>(kChunk);  // inline: chunk 0
  return {};
}

Result<size_t> LayerReader::next(const void** data) {
  if (!m->decoder.joinable()) {
    if (m->done) return size_t{0};
    size_t n = TRY(m->produce(m->chunks[0].get()));
    m->done = n == 0;
    *data = m->chunks[0].get();
    return n;
  }
  std::unique_lock<std::mutex> lk(m->mu);
  if (m->current >= 0) {
    m->free.push_back(m->current);
    m->current = -1;
    m->cv.notify_all();
  }
  m->cv.wait(lk, [&] { return m->done || !m->full.empty(); });
  if (!m->full.empty()) {
    m->current = m->full.front();
    m->full.pop_front();
    *data = m->chunks[m->current].get();
    return m->lengths[m->current];
  }
  if (m->error) return *m->error;
  return size_t{0};
}

Status LayerReader::drain() {
  const void* d;
  while (TRY(next(&d)) > 0) {
  }
  if (m->decoder.joinable()) m->decoder.join();  // done: the hashes are complete
  return {};
}

cas::Digest LayerReader::blob_digest() { return m->blob_hasher.finish(); }
cas::Digest LayerReader::tar_digest() { return m->tar_hasher.finish(); }

}  // namespace kiln::oci
