// Tests for oci/layer_reader: the tar out of any compression, both hashes, the same with the decoder thread and
// inline, and a corrupt stream an error in both.
#include "oci/layer_reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "common/fd.h"
#include "tests/unit/support/compressed.h"
#include "tests/unit/support/temp_dir.h"

namespace kiln::oci {
namespace {

/// Everything the reader gives, then drained; the hashes it reports.
struct ReadBack {
  std::string tar;
  cas::Digest blob, tar_digest;
};
Result<ReadBack> read_all(const std::string& path, bool ahead, size_t stop_after = SIZE_MAX) {
  UniqueFd fd = TRY(open_fd(path, O_RDONLY));
  LayerReader r(fd.get(), ahead);
  TRY(r.open());
  ReadBack out;
  const void* d;
  while (out.tar.size() < stop_after) {
    size_t n = TRY(r.next(&d));
    if (n == 0) break;
    out.tar.append(static_cast<const char*>(d), n);
  }
  if (stop_after != SIZE_MAX) return out;  // left early: the destructor stops the decoder
  TRY(r.drain());
  out.blob = r.blob_digest();
  out.tar_digest = r.tar_digest();
  return out;
}

TEST(LayerReader, TheTarAndBothHashesWithAndWithoutTheDecoderThread) {
  std::string tar;
  for (int i = 0; i < 200000; ++i) tar += std::to_string(i * 7919 % 10007) + ",";  // several chunks' worth
  for (auto c : {media::Compression::none, media::Compression::gzip, media::Compression::zstd}) {
    test::TempDir t;
    std::string blob = test::compressed(c, tar);
    test::write_text(t / "l", blob);
    for (bool ahead : {true, false}) {
      auto r = read_all(t / "l", ahead);
      ASSERT_TRUE(r.ok()) << r.error().what();
      EXPECT_EQ(r->tar, tar) << static_cast<int>(c) << ahead;
      EXPECT_EQ(r->blob, cas::sha256_of(blob));
      EXPECT_EQ(r->tar_digest, cas::sha256_of(tar));
    }
  }
}

TEST(LayerReader, CorruptStreamIsAnErrorEitherWay) {
  test::TempDir t;
  std::string blob = test::compressed(media::Compression::gzip, std::string(1 << 20, 'a') + "tail");
  blob[blob.size() / 2] ^= 0x5a;
  blob.resize(blob.size() - 3);
  test::write_text(t / "l", blob);
  for (bool ahead : {true, false}) {
    auto r = read_all(t / "l", ahead);
    ASSERT_FALSE(r.ok()) << ahead;
    EXPECT_NE(r.error().what().find("gzip"), std::string::npos) << r.error().what();
  }
}

TEST(LayerReader, LeavingEarlyStopsTheDecoder) {
  test::TempDir t;
  test::write_text(t / "l", test::compressed(media::Compression::zstd, std::string(16 << 20, 'z')));
  auto r = read_all(t / "l", true, 1 << 17);
  ASSERT_TRUE(r.ok());
  EXPECT_GE(r->tar.size(), size_t{1} << 17);
}

}  // namespace
}  // namespace kiln::oci
