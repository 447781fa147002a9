// Streaming compression and decompression.
#include "oci/compress.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "common/dynlib.h"

namespace kiln::oci {

/// deflate takes as long to find that a block does not compress as to compress text, so already compressed
/// bytes cost as much CPU as text for nothing (bench/PERFORMANCE.md). The samples are deflate's whole window, so a
/// repeat it could use shows; the first one alone decides for a block that compresses. The answer depends only on the
/// bytes (layers stay reproducible); at worst a mixed block is stored a little larger than it could be.
bool deflate_gains_nothing(const unsigned char* data, size_t len) {
  constexpr size_t kSample = 32u << 10;
  if (len < 4 * kSample) return false;
  z_stream z{};
  if (deflateInit2(&z, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  std::vector<unsigned char> out(deflateBound(&z, kSample) + 16);
  bool gains = false;
  for (size_t i = 0; i < 5 && !gains; ++i) {
    deflateReset(&z);
    z.next_in = const_cast<unsigned char*>(data + (len - kSample) * i / 4);
    z.avail_in = kSample;
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    gains = deflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out * 100 < kSample * 99;
  }
  deflateEnd(&z);
  return !gains;
}

namespace {

constexpr size_t kChunk = 1 << 17;

class PlainCompressor final : public Compressor {
 public:
  explicit PlainCompressor(Sink out) : m_out(std::move(out)) {}
  Status write(const void* d, size_t n) override { return m_out(d, n); }
  Status finish() override { return {}; }

 private:
  Sink m_out;
};

/// gzip in independent blocks compressed on several threads, as pigz does: each 1 MiB block is raw deflate
/// primed with the previous block's last 32 KiB (so the ratio stays that of one stream) and ends on a byte
/// boundary (Z_SYNC_FLUSH), the last one with the final block; the crc32s are combined in order. A block deflate
/// cannot shrink is stored (deflate_gains_nothing). The bytes depend only on the input (fixed block size and
/// level), never on the thread count, so layers stay reproducible; any gzip reader takes them. One zlib stream
/// was the bottleneck of a cold build (bench/PERFORMANCE.md).
class GzipCompressor final : public Compressor {
 public:
  static constexpr size_t kBlock = 1u << 20;
  static constexpr size_t kWindow = 32u << 10;

  // Two blocks per core keep every core busy while the oldest is written out; at most 16 (~32 MB in flight).
  explicit GzipCompressor(Sink out)
      : m_out(std::move(out)), m_max_inflight(std::min(16u, 2 * std::max(1u, std::thread::hardware_concurrency()))) {
    m_block.reserve(kBlock);
  }
  ~GzipCompressor() override {
    for (auto& slot : m_inflight)
      if (slot.worker.joinable()) slot.worker.join();
  }
  Status write(const void* d, size_t n) override {
    const auto* p = static_cast<const unsigned char*>(d);
    while (n) {
      size_t take = std::min(n, kBlock - m_block.size());
      m_block.insert(m_block.end(), p, p + take);
      p += take;
      n -= take;
      if (m_block.size() == kBlock) TRY(submit(false));
    }
    return {};
  }
  Status finish() override {
    if (!m_header_written) TRY(header());
    TRY(submit(true));
    while (!m_inflight.empty()) TRY(drain_one());
    unsigned char trailer[8];
    for (int i = 0; i < 4; ++i) trailer[i] = static_cast<unsigned char>(m_crc >> (8 * i));
    for (int i = 0; i < 4; ++i) trailer[4 + i] = static_cast<unsigned char>(m_total >> (8 * i));
    return m_out(trailer, sizeof trailer);
  }

 private:
  /// One block: its input and priming window, and once compressed, its deflate bytes and crc32.
  struct Job {
    std::vector<unsigned char> in, dict, out;
    bool last = false, ok = false;
    uLong crc = 0;
  };
  struct Slot {
    std::shared_ptr<Job> job;
    std::thread worker;  ///< joined before the block is written out
  };

  static void compress_block(Job& job) {
    job.crc = crc32(0L, job.in.data(), static_cast<uInt>(job.in.size()));
    z_stream z{};
    int level = deflate_gains_nothing(job.in.data(), job.in.size()) ? Z_NO_COMPRESSION : Z_DEFAULT_COMPRESSION;
    if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return;
    if (!job.dict.empty()) deflateSetDictionary(&z, job.dict.data(), static_cast<uInt>(job.dict.size()));
    job.out.resize(deflateBound(&z, job.in.size()) + 16);
    z.next_in = job.in.data();
    z.avail_in = static_cast<uInt>(job.in.size());
    z.next_out = job.out.data();
    z.avail_out = static_cast<uInt>(job.out.size());
    int rc = deflate(&z, job.last ? Z_FINISH : Z_SYNC_FLUSH);
    job.ok = job.last ? rc == Z_STREAM_END : (rc == Z_OK && z.avail_in == 0);
    job.out.resize(job.out.size() - z.avail_out);
    deflateEnd(&z);
  }

  Status header() {
    // What zlib's gzip wrapper writes with mtime 0 and no name: reproducible.
    static const unsigned char h[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    m_header_written = true;
    return m_out(h, sizeof h);
  }

  Status submit(bool last) {
    if (!m_header_written) TRY(header());
    // This block is primed with the previous one's tail; only the last block can be shorter than the window,
    // and nothing follows it.
    std::vector<unsigned char> dict = std::move(m_window);
    size_t keep = std::min(kWindow, m_block.size());
    m_window.assign(m_block.end() - static_cast<std::ptrdiff_t>(keep), m_block.end());
    auto job = std::make_shared<Job>();
    job->in = std::move(m_block);
    job->dict = std::move(dict);
    job->last = last;
    m_inflight.push_back(Slot{job, {}});
    try {
      m_inflight.back().worker = std::thread([job] { compress_block(*job); });
    } catch (const std::system_error&) {
      compress_block(*job);  // no thread to be had (RLIMIT_NPROC, a pids limit): compress it here
    }
    m_block = {};
    m_block.reserve(kBlock);
    while (m_inflight.size() >= m_max_inflight) TRY(drain_one());
    return {};
  }

  /// Write out the oldest block (blocks leave in the order they came in).
  Status drain_one() {
    Slot slot = std::move(m_inflight.front());
    m_inflight.pop_front();
    if (slot.worker.joinable()) slot.worker.join();
    const Job& j = *slot.job;
    if (!j.ok) return make_error(ErrorCode::generic, "gzip compression failed");
    m_crc = crc32_combine(m_crc, j.crc, static_cast<z_off_t>(j.in.size()));
    m_total += j.in.size();
    return j.out.empty() ? Status{} : m_out(j.out.data(), j.out.size());
  }

  Sink m_out;
  size_t m_max_inflight;
  std::vector<unsigned char> m_block, m_window;
  std::deque<Slot> m_inflight;
  uLong m_crc = crc32(0L, Z_NULL, 0);
  uint64_t m_total = 0;
  bool m_header_written = false;
};

/// zstd compression goes through the shared libzstd, loaded on first use: the static libzstd.a kiln links
/// (for decompression, its own and libarchive's) is built without multithreading on Debian, and kiln's zstd
/// layers have always been made with 2 workers (their bytes depend on it). Loading libzstd.so at every start
/// of kiln would cost every command, for the few that compress.
struct ZstdMt {
  ZSTD_CCtx* (*create)();
  size_t (*free)(ZSTD_CCtx*);
  size_t (*set)(ZSTD_CCtx*, ZSTD_cParameter, int);
  size_t (*compress)(ZSTD_CCtx*, ZSTD_outBuffer*, ZSTD_inBuffer*, ZSTD_EndDirective);
  size_t (*out_size)();
  unsigned (*is_error)(size_t);
  const char* (*error_name)(size_t);
};

Result<const ZstdMt*> zstd_mt() {
  static const Result<ZstdMt> lib = []() -> Result<ZstdMt> {
    auto missing = [](const std::string& what) {
      return make_error(ErrorCode::unsupported,
                        "zstd compression needs " + what + " from libzstd.so.1: install libzstd1 (scripts/setup)");
    };
    auto h = DynLib::open("libzstd.so.1");
    if (!h) return missing("the library");
    ZstdMt z{};
    h->bind(z.create, "ZSTD_createCCtx");
    h->bind(z.free, "ZSTD_freeCCtx");
    h->bind(z.set, "ZSTD_CCtx_setParameter");
    h->bind(z.compress, "ZSTD_compressStream2");
    h->bind(z.out_size, "ZSTD_CStreamOutSize");
    h->bind(z.is_error, "ZSTD_isError");
    h->bind(z.error_name, "ZSTD_getErrorName");
    if (!h->missing().empty()) return missing(h->missing());
    return z;
  }();
  if (!lib) return lib.error();
  return &*lib;
}

class ZstdCompressor final : public Compressor {
 public:
  explicit ZstdCompressor(Sink out) : m_out(std::move(out)) {
    auto z = zstd_mt();
    if (!z) {
      m_error = z.error();
      return;
    }
    m_z = *z;
    m_cctx = m_z->create();
    m_buf.resize(m_z->out_size());
    m_z->set(m_cctx, ZSTD_c_compressionLevel, 3);
    m_z->set(m_cctx, ZSTD_c_checksumFlag, 1);
    // A fixed worker count (not the machine's core count) keeps the output the same on every machine.
    m_z->set(m_cctx, ZSTD_c_nbWorkers, 2);
  }
  ~ZstdCompressor() override {
    if (m_cctx) m_z->free(m_cctx);
  }
  Status write(const void* d, size_t n) override {
    if (!m_z) return *m_error;
    ZSTD_inBuffer in{d, n, 0};
    while (in.pos < in.size) TRY(step(in, ZSTD_e_continue));
    return {};
  }
  Status finish() override {
    if (!m_z) return *m_error;
    ZSTD_inBuffer in{nullptr, 0, 0};
    for (;;) {
      size_t left = TRY(step(in, ZSTD_e_end));
      if (left == 0) return {};
    }
  }

 private:
  Result<size_t> step(ZSTD_inBuffer& in, ZSTD_EndDirective mode) {
    ZSTD_outBuffer out{m_buf.data(), m_buf.size(), 0};
    size_t rc = m_z->compress(m_cctx, &out, &in, mode);
    if (m_z->is_error(rc))
      return make_error(ErrorCode::generic, std::string("zstd compression failed: ") + m_z->error_name(rc));
    if (out.pos) TRY(m_out(m_buf.data(), out.pos));
    return rc;
  }
  Sink m_out;
  const ZstdMt* m_z = nullptr;
  std::optional<Error> m_error;
  ZSTD_CCtx* m_cctx = nullptr;
  std::vector<unsigned char> m_buf;
};

class PlainDecompressor final : public Decompressor {
 public:
  explicit PlainDecompressor(Source in) : m_in(std::move(in)) {}
  Result<size_t> read(void* buf, size_t len) override { return m_in(buf, len); }

 private:
  Source m_in;
};

class GzipDecompressor final : public Decompressor {
 public:
  explicit GzipDecompressor(Source in) : m_in(std::move(in)), m_buf(kChunk) { inflateInit2(&m_z, 15 + 32); }
  ~GzipDecompressor() override { inflateEnd(&m_z); }
  Result<size_t> read(void* buf, size_t len) override {
    m_z.next_out = static_cast<Bytef*>(buf);
    m_z.avail_out = static_cast<uInt>(len);
    while (m_z.avail_out == len && !m_eof) {
      if (m_z.avail_in == 0) {
        size_t n = TRY(m_in(m_buf.data(), m_buf.size()));
        if (n == 0) {
          if (m_started_member) return make_error(ErrorCode::corrupt, "gzip stream is truncated");
          m_eof = true;
          break;
        }
        m_z.next_in = m_buf.data();
        m_z.avail_in = static_cast<uInt>(n);
      }
      m_started_member = true;
      int rc = inflate(&m_z, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        // Concatenated gzip members are one stream (as gzip -d treats them).
        m_started_member = false;
        inflateReset(&m_z);
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return make_error(ErrorCode::corrupt,
                          std::string("gzip stream is corrupt: ") + (m_z.msg ? m_z.msg : "inflate failed"));
      }
    }
    return len - m_z.avail_out;
  }

 private:
  Source m_in;
  z_stream m_z{};
  std::vector<unsigned char> m_buf;
  bool m_eof = false;
  bool m_started_member = false;
};

class ZstdDecompressor final : public Decompressor {
 public:
  explicit ZstdDecompressor(Source in) : m_in(std::move(in)), m_dctx(ZSTD_createDCtx()), m_buf(ZSTD_DStreamInSize()) {}
  ~ZstdDecompressor() override { ZSTD_freeDCtx(m_dctx); }
  Result<size_t> read(void* buf, size_t len) override {
    ZSTD_outBuffer out{buf, len, 0};
    while (out.pos == 0 && !m_eof) {
      if (m_in_buf.pos == m_in_buf.size) {
        size_t n = TRY(m_in(m_buf.data(), m_buf.size()));
        if (n == 0) {
          if (m_last != 0) return make_error(ErrorCode::corrupt, "zstd stream is truncated");
          m_eof = true;
          break;
        }
        m_in_buf = ZSTD_inBuffer{m_buf.data(), n, 0};
      }
      m_last = ZSTD_decompressStream(m_dctx, &out, &m_in_buf);
      if (ZSTD_isError(m_last))
        return make_error(ErrorCode::corrupt, std::string("zstd stream is corrupt: ") + ZSTD_getErrorName(m_last));
    }
    return out.pos;
  }

 private:
  Source m_in;
  ZSTD_DCtx* m_dctx;
  std::vector<unsigned char> m_buf;
  ZSTD_inBuffer m_in_buf{nullptr, 0, 0};
  size_t m_last = 0;
  bool m_eof = false;
};

}  // namespace

std::unique_ptr<Compressor> Compressor::create(media::Compression c, Sink out) {
  switch (c) {
    case media::Compression::gzip:
      return std::make_unique<GzipCompressor>(std::move(out));
    case media::Compression::zstd:
      return std::make_unique<ZstdCompressor>(std::move(out));
    case media::Compression::none:
      break;
  }
  return std::make_unique<PlainCompressor>(std::move(out));
}

std::unique_ptr<Decompressor> Decompressor::create(media::Compression c, Source in) {
  switch (c) {
    case media::Compression::gzip:
      return std::make_unique<GzipDecompressor>(std::move(in));
    case media::Compression::zstd:
      return std::make_unique<ZstdDecompressor>(std::move(in));
    case media::Compression::none:
      break;
  }
  return std::make_unique<PlainDecompressor>(std::move(in));
}

media::Compression sniff_compression(const unsigned char* head, size_t len) {
  if (len >= 2 && head[0] == 0x1f && head[1] == 0x8b) return media::Compression::gzip;
  if (len >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd)
    return media::Compression::zstd;
  return media::Compression::none;
}

}  // namespace kiln::oci
