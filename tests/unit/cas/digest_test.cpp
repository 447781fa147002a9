// Tests for cas/digest: parsing, validation, streaming SHA-256 against known vectors.
#include "cas/digest.h"

#include <gtest/gtest.h>

namespace kiln::cas {
namespace {

TEST(Digest, KnownVectors) {
  EXPECT_EQ(sha256_of("").str(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_of("abc").hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Digest, StreamingEqualsOneShot) {
  std::string data(1 << 20, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31);
  Sha256 h;
  for (size_t i = 0; i < data.size(); i += 4093) h.update(data.data() + i, std::min<size_t>(4093, data.size() - i));
  EXPECT_EQ(h.bytes(), data.size());
  EXPECT_EQ(h.finish(), sha256_of(data));
}

TEST(Digest, ParseValidAndInvalid) {
  std::string good = "sha256:" + std::string(64, 'a');
  ASSERT_TRUE(Digest::parse(good).ok());
  EXPECT_EQ(Digest::parse(good)->str(), good);
  for (const char* bad : {"", "sha256:", "sha256:abc", "md5:d41d8cd98f00b204e9800998ecf8427e",
                          "sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    EXPECT_FALSE(Digest::parse(bad).ok()) << bad;
  }
  EXPECT_EQ(Digest::parse("sha512:00").error().code, ErrorCode::unsupported);
}

}  // namespace
}  // namespace kiln::cas
