// Streaming compression and decompression.
#include "oci/compress.h"

#include <zlib.h>
#include <zstd.h>

#include <vector>

namespace kiln::oci {

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

class GzipCompressor final : public Compressor {
 public:
  explicit GzipCompressor(Sink out) : m_out(std::move(out)), m_buf(kChunk) {
    // windowBits 15+16: a gzip wrapper whose header has mtime 0 and no name, so the output is reproducible.
    deflateInit2(&m_z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  }
  ~GzipCompressor() override { deflateEnd(&m_z); }
  Status write(const void* d, size_t n) override { return pump(d, n, Z_NO_FLUSH); }
  Status finish() override { return pump(nullptr, 0, Z_FINISH); }

 private:
  Status pump(const void* d, size_t n, int flush) {
    m_z.next_in = static_cast<Bytef*>(const_cast<void*>(d));
    m_z.avail_in = static_cast<uInt>(n);
    int rc;
    do {
      m_z.next_out = m_buf.data();
      m_z.avail_out = static_cast<uInt>(m_buf.size());
      rc = deflate(&m_z, flush);
      if (rc == Z_STREAM_ERROR) return make_error(ErrorCode::generic, "gzip compression failed");
      size_t have = m_buf.size() - m_z.avail_out;
      if (have) TRY(m_out(m_buf.data(), have));
    } while (m_z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    return {};
  }
  Sink m_out;
  z_stream m_z{};
  std::vector<unsigned char> m_buf;
};

class ZstdCompressor final : public Compressor {
 public:
  explicit ZstdCompressor(Sink out) : m_out(std::move(out)), m_cctx(ZSTD_createCCtx()), m_buf(ZSTD_CStreamOutSize()) {
    ZSTD_CCtx_setParameter(m_cctx, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(m_cctx, ZSTD_c_checksumFlag, 1);
    // A fixed worker count (not the machine's core count) keeps the output the same on every machine.
    ZSTD_CCtx_setParameter(m_cctx, ZSTD_c_nbWorkers, 2);
  }
  ~ZstdCompressor() override { ZSTD_freeCCtx(m_cctx); }
  Status write(const void* d, size_t n) override {
    ZSTD_inBuffer in{d, n, 0};
    while (in.pos < in.size) TRY(step(in, ZSTD_e_continue));
    return {};
  }
  Status finish() override {
    ZSTD_inBuffer in{nullptr, 0, 0};
    for (;;) {
      size_t left = TRY(step(in, ZSTD_e_end));
      if (left == 0) return {};
    }
  }

 private:
  Result<size_t> step(ZSTD_inBuffer& in, ZSTD_EndDirective mode) {
    ZSTD_outBuffer out{m_buf.data(), m_buf.size(), 0};
    size_t rc = ZSTD_compressStream2(m_cctx, &out, &in, mode);
    if (ZSTD_isError(rc)) return make_error(ErrorCode::generic, std::string("zstd compression failed: ") + ZSTD_getErrorName(rc));
    if (out.pos) TRY(m_out(m_buf.data(), out.pos));
    return rc;
  }
  Sink m_out;
  ZSTD_CCtx* m_cctx;
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
        return make_error(ErrorCode::corrupt, std::string("gzip stream is corrupt: ") + (m_z.msg ? m_z.msg : "inflate failed"));
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
      if (ZSTD_isError(m_last)) return make_error(ErrorCode::corrupt, std::string("zstd stream is corrupt: ") + ZSTD_getErrorName(m_last));
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
    case media::Compression::gzip: return std::make_unique<GzipCompressor>(std::move(out));
    case media::Compression::zstd: return std::make_unique<ZstdCompressor>(std::move(out));
    case media::Compression::none: break;
  }
  return std::make_unique<PlainCompressor>(std::move(out));
}

std::unique_ptr<Decompressor> Decompressor::create(media::Compression c, Source in) {
  switch (c) {
    case media::Compression::gzip: return std::make_unique<GzipDecompressor>(std::move(in));
    case media::Compression::zstd: return std::make_unique<ZstdDecompressor>(std::move(in));
    case media::Compression::none: break;
  }
  return std::make_unique<PlainDecompressor>(std::move(in));
}

media::Compression sniff_compression(const unsigned char* head, size_t len) {
  if (len >= 2 && head[0] == 0x1f && head[1] == 0x8b) return media::Compression::gzip;
  if (len >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd) return media::Compression::zstd;
  return media::Compression::none;
}

}  // namespace kiln::oci
