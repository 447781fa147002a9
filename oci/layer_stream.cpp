// Tar bytes → diffID + compression + blob, pipelined over a worker thread.
#include "oci/layer_stream.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "oci/compress.h"

namespace kiln::oci {

struct LayerStream::Impl {
  explicit Impl(cas::BlobWriter w) : blob(std::move(w)) {}
  cas::BlobWriter blob;
  cas::Sha256 diff_hasher;
  media::Compression compression = media::Compression::gzip;
  std::unique_ptr<Compressor> compressor;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> queue;
  size_t queued_bytes = 0;
  bool closed = false;
  bool failed = false;
  Error error;
  std::string pending;  // coalesces small writes into larger chunks
  std::thread worker;

  static constexpr size_t kChunk = 1 << 20;
  static constexpr size_t kMaxQueued = 16 << 20;

  void run() {
    for (;;) {
      std::string chunk;
      {
        std::unique_lock<std::mutex> lk(mu);
        cv.wait(lk, [&] { return !queue.empty() || closed; });
        if (queue.empty()) break;
        chunk = std::move(queue.front());
        queue.pop_front();
        queued_bytes -= chunk.size();
      }
      cv.notify_all();
      if (failed) continue;
      if (auto st = compressor->write(chunk.data(), chunk.size()); !st) fail(std::move(st).error());
    }
    if (!failed)
      if (auto st = compressor->finish(); !st) fail(std::move(st).error());
  }

  void fail(Error e) {
    std::lock_guard<std::mutex> lk(mu);
    if (!failed) error = std::move(e);
    failed = true;
    cv.notify_all();
  }

  Status push(std::string chunk) {
    std::unique_lock<std::mutex> lk(mu);
    cv.wait(lk, [&] { return queued_bytes < kMaxQueued || failed; });
    if (failed) return error;
    queued_bytes += chunk.size();
    queue.push_back(std::move(chunk));
    cv.notify_all();
    return {};
  }

  void close() {
    {
      std::lock_guard<std::mutex> lk(mu);
      closed = true;
    }
    cv.notify_all();
    if (worker.joinable()) worker.join();
  }
};

LayerStream::LayerStream(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}

LayerStream::~LayerStream() {
  if (m) m->close();
}

Result<std::unique_ptr<LayerStream>> LayerStream::create(const cas::Store& store, media::Compression c) {
  auto w = TRY(store.new_blob());
  auto impl = std::make_unique<Impl>(std::move(w));
  Impl* raw = impl.get();
  impl->compression = c;
  impl->compressor = Compressor::create(c, [raw](const void* d, size_t n) { return raw->blob.write(d, n); });
  impl->worker = std::thread([raw] { raw->run(); });
  return std::unique_ptr<LayerStream>(new LayerStream(std::move(impl)));
}

Status LayerStream::write(const void* data, size_t len) {
  m->diff_hasher.update(data, len);
  m->pending.append(static_cast<const char*>(data), len);
  if (m->pending.size() >= Impl::kChunk) {
    std::string chunk;
    chunk.swap(m->pending);
    TRY(m->push(std::move(chunk)));
  }
  return {};
}

Result<StoredLayer> LayerStream::commit() {
  if (!m->pending.empty()) TRY(m->push(std::move(m->pending)));
  m->close();
  if (m->failed) return m->error;
  StoredLayer out;
  out.diff_id = m->diff_hasher.finish();
  out.blob = TRY(m->blob.commit());
  out.media_type = media::oci_layer_type(m->compression);
  return out;
}

}  // namespace kiln::oci
