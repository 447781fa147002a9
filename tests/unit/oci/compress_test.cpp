// Tests for oci/compress: round trips, determinism, truncated and corrupt streams.
#include "oci/compress.h"

#include <gtest/gtest.h>

#include <cstring>

namespace kiln::oci {
namespace {

std::string compress(media::Compression c, const std::string& in) {
  std::string out;
  auto z = Compressor::create(c, [&](const void* d, size_t n) -> Status {
    out.append(static_cast<const char*>(d), n);
    return {};
  });
  EXPECT_TRUE(z->write(in.data(), in.size()).ok());
  EXPECT_TRUE(z->finish().ok());
  return out;
}

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
    std::string z = compress(c, in);
    EXPECT_EQ(z, compress(c, in));
    EXPECT_EQ(*decompress(c, z), in);
    EXPECT_EQ(sniff_compression(reinterpret_cast<const unsigned char*>(z.data()), z.size()), c);
  }
}

TEST(Compress, TruncatedAndCorruptStreamsFail) {
  std::string in = sample();
  for (auto c : {media::Compression::gzip, media::Compression::zstd}) {
    std::string z = compress(c, in);
    auto t = decompress(c, z.substr(0, z.size() / 2));
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.error().code, ErrorCode::corrupt);
    std::string bad = z;
    for (size_t i = 20; i < 60; ++i) bad[i] ^= 0x5a;
    EXPECT_FALSE(decompress(c, bad).ok());
  }
}

}  // namespace
}  // namespace kiln::oci
