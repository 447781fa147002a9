// Tests for oci/compress: round trips, determinism, truncated and corrupt streams.
#include "oci/compress.h"

#include <gtest/gtest.h>

#include <zlib.h>

#include <cstring>
#include <random>
#include "tests/unit/support/compressed.h"

namespace kiln::oci {
namespace {

Result<std::string> decompress(media::Compression c, const std::string& in) {
  size_t pos = 0;
  auto dz = Decompressor::create(c, [&](void* buf, size_t len) -> Result<size_t> {
    size_t n = std::min(len, in.size() - pos);
    std::memcpy(buf, in.data() + pos, n);
    pos += n;
    return n;
  });
  std::string out;
  char buf[1000];
  for (;;) {
    size_t n = TRY(dz->read(buf, sizeof buf));
    if (n == 0) break;
    out.append(buf, n);
  }
  return out;
}

std::string sample() {
  std::string s;
  for (int i = 0; i < 200000; ++i) s += std::to_string(i * 7919 % 1000) + (i % 13 ? " " : "\n");
  return s;
}

TEST(Compress, RoundTripAndDeterministic) {
  std::string in = sample();
  for (auto c : {media::Compression::none, media::Compression::gzip, media::Compression::zstd}) {
    std::string z = test::compressed(c, in);
    EXPECT_EQ(z, test::compressed(c, in));
    EXPECT_EQ(*decompress(c, z), in);
    EXPECT_EQ(sniff_compression(reinterpret_cast<const unsigned char*>(z.data()), z.size()), c);
  }
}

TEST(Compress, TruncatedAndCorruptStreamsFail) {
  std::string in = sample();
  for (auto c : {media::Compression::gzip, media::Compression::zstd}) {
    std::string z = test::compressed(c, in);
    auto t = decompress(c, z.substr(0, z.size() / 2));
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.error().code, ErrorCode::corrupt);
    std::string bad = z;
    for (size_t i = 20; i < 60; ++i) bad[i] ^= 0x5a;
    EXPECT_FALSE(decompress(c, bad).ok());
  }
}

/// Several MiB that compress like real files: text with some randomness.
std::string large_sample() {
  std::string s;
  unsigned x = 12345;
  while (s.size() < (5u << 20) + 777) {
    x = x * 1103515245 + 12345;
    s += "line " + std::to_string(x % 5000) + " of a file " + std::to_string((x >> 8) % 97) + "\n";
  }
  return s;
}

TEST(Compress, GzipInParallelBlocksIsOneValidDeterministicStream) {
  std::string in = large_sample();
  std::string whole = test::compressed(media::Compression::gzip, in);
  // The same bytes whatever the sizes of the writes (blocks are cut by input offset, not by write calls).
  std::string pieces;
  {
    auto z = Compressor::create(media::Compression::gzip, [&](const void* d, size_t n) -> Status {
      pieces.append(static_cast<const char*>(d), n);
      return {};
    });
    for (size_t pos = 0, step = 1; pos < in.size(); pos += step, step = step * 3 % 100003 + 1)
      ASSERT_TRUE(z->write(in.data() + pos, std::min(step, in.size() - pos)).ok());
    ASSERT_TRUE(z->finish().ok());
  }
  EXPECT_EQ(pieces, whole);
  EXPECT_EQ(*decompress(media::Compression::gzip, whole), in);
  // Header as zlib writes it with mtime 0 (reproducible), trailer with the crc32 and size of the whole input.
  EXPECT_EQ(whole.substr(0, 4), std::string("\x1f\x8b\x08\x00", 4));
  uLong crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(in.data()), static_cast<uInt>(in.size()));
  uint32_t stored_crc, stored_len;
  std::memcpy(&stored_crc, whole.data() + whole.size() - 8, 4);
  std::memcpy(&stored_len, whole.data() + whole.size() - 4, 4);
  EXPECT_EQ(stored_crc, static_cast<uint32_t>(crc));
  EXPECT_EQ(stored_len, static_cast<uint32_t>(in.size()));
  // Priming each block with the previous 32 KiB keeps the ratio of one zlib stream (within 1%).
  uLongf bound = compressBound(static_cast<uLong>(in.size()));
  std::string one(bound, '\0');
  ASSERT_EQ(compress2(reinterpret_cast<Bytef*>(one.data()), &bound, reinterpret_cast<const Bytef*>(in.data()),
                      static_cast<uLong>(in.size()), Z_DEFAULT_COMPRESSION),
            Z_OK);
  EXPECT_LT(static_cast<double>(whole.size()), 1.01 * static_cast<double>(bound) + 64);
}

TEST(Compress, EmptyInputIsAValidGzip) {
  std::string z = test::compressed(media::Compression::gzip, "");
  auto back = decompress(media::Compression::gzip, z);
  ASSERT_TRUE(back.ok()) << back.error().what();
  EXPECT_EQ(*back, "");
}

}  // namespace
}  // namespace kiln::oci

namespace kiln::oci {
namespace {

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(g());
  return s;
}

const unsigned char* bytes(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); }

TEST(Compress, BlocksThatDeflateCannotShrinkAreStored) {
  std::string random = random_bytes(1u << 20, 1);
  EXPECT_TRUE(deflate_gains_nothing(bytes(random), random.size()));
  std::string text = large_sample().substr(0, 1u << 20);
  EXPECT_FALSE(deflate_gains_nothing(bytes(text), text.size()));
  // A repeat within deflate's window is something it can use, even though every byte looks random.
  std::string period = random_bytes(16u << 10, 2), repeated;
  while (repeated.size() < (1u << 20)) repeated += period;
  EXPECT_FALSE(deflate_gains_nothing(bytes(repeated), repeated.size()));
  // Text anywhere a sample falls (here the block's end) keeps the block compressed.
  std::string mixed = random.substr(0, (1u << 20) - (64u << 10)) + text.substr(0, 64u << 10);
  EXPECT_FALSE(deflate_gains_nothing(bytes(mixed), mixed.size()));
  // Small blocks (the last of a layer) are always compressed.
  EXPECT_FALSE(deflate_gains_nothing(bytes(random), 100u << 10));
}

TEST(Compress, StoredBlocksAreStillOneDeterministicGzip) {
  // Random bytes, then text: stored blocks and deflated ones in one stream.
  std::string in = random_bytes(3u << 20, 3) + large_sample();
  std::string z = test::compressed(media::Compression::gzip, in);
  EXPECT_EQ(z, test::compressed(media::Compression::gzip, in));
  EXPECT_EQ(*decompress(media::Compression::gzip, z), in);
  EXPECT_LT(z.size(), (3u << 20) + large_sample().size() / 3);
}

}  // namespace
}  // namespace kiln::oci
