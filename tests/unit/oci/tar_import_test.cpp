// Tests for oci/tar_import and oci/layer_stream: one-pass import, diffID, compression, refusal of bad input.
#include "oci/tar_import.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>

#include "common/fd.h"
#include "oci/compress.h"
#include "tests/unit/support/tar_builder.h"
#include "tests/unit/support/temp_dir.h"

namespace kiln::oci {
namespace {

using test::TarEntry;

std::string gzip(const std::string& in) {
  std::string out;
  auto z = Compressor::create(media::Compression::gzip, [&](const void* d, size_t n) -> Status {
    out.append(static_cast<const char*>(d), n);
    return {};
  });
  (void)z->write(in.data(), in.size());
  (void)z->finish();
  return out;
}

struct ImportTest : ::testing::Test {
  test::TempDir t;
  cas::Store store = *cas::Store::open(t / "store");
  std::string tar = test::build_tar({{TarEntry::dir, "etc/"}, {TarEntry::file, "etc/hosts", std::string(300000, 'h')}});
  Result<StoredLayer> import(const std::string& bytes, media::Compression c) {
    test::write_text(t / "in", bytes);
    UniqueFd fd = *open_fd(t / "in", O_RDONLY);
    return import_tarball(store, fd.get(), c, "in.tar");
  }
};

TEST_F(ImportTest, DiffIdIsTheTarAndBlobIsCompressed) {
  auto l = import(tar, media::Compression::gzip);
  ASSERT_TRUE(l.ok()) << l.error().what();
  EXPECT_EQ(l->diff_id, cas::sha256_of(tar));
  EXPECT_EQ(l->media_type, media::oci_layer_gzip);
  EXPECT_EQ(*store.read_blob(l->blob.digest, 1 << 20), gzip(tar));
  // A gzip input gives the same diffID (the tar inside), and the same blob.
  auto l2 = import(gzip(tar), media::Compression::gzip);
  ASSERT_TRUE(l2.ok());
  EXPECT_EQ(l2->diff_id, l->diff_id);
  EXPECT_EQ(l2->blob.digest, l->blob.digest);
}

TEST_F(ImportTest, UncompressedAndZstd) {
  auto plain = import(tar, media::Compression::none);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->blob.digest, plain->diff_id);
  auto z = import(tar, media::Compression::zstd);
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->diff_id, plain->diff_id);
  EXPECT_EQ(z->media_type, media::oci_layer_zstd);
}

TEST_F(ImportTest, TruncatedOrGarbageInputIsRefusedAndStoresNothing) {
  for (const std::string& bad : {tar.substr(0, 2000), std::string("this is not a tar file at all, not even close"),
                                 gzip(tar).substr(0, 300), std::string()}) {
    auto l = import(bad, media::Compression::gzip);
    ASSERT_FALSE(l.ok());
    EXPECT_NE(l.error().what().find("in.tar"), std::string::npos) << l.error().what();
  }
  cas::Store& s = store;
  auto blobs = ::opendir(s.blobs_dir().c_str());
  int count = 0;
  while (auto* e = ::readdir(blobs)) count += e->d_name[0] != '.';
  ::closedir(blobs);
  EXPECT_EQ(count, 0);
}

}  // namespace
}  // namespace kiln::oci
