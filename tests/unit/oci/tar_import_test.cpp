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

TEST_F(ImportTest, RefusesWhatTheExtractorWouldRefuse) {
  using T = TarEntry;
  const std::vector<std::pair<std::vector<TarEntry>, std::string>> bad = {
      {{{T::file, "a/../../x", "1"}}, "contains \"..\""},
      {{{T::symlink, "evil", "/etc"}, {T::file, "evil/passwd", "x"}}, "absolute path"},
      {{{T::dir, "d/"}, {T::symlink, "d/up", "../.."}, {T::file, "d/up/x", "x"}}, "climbs out"},
      {{{T::symlink, "a", "b"}, {T::symlink, "b", "a"}, {T::file, "a/x", "x"}}, "too many levels"},
      {{{T::hardlink, "h", "../../etc/shadow"}}, "hard link target contains"},
      {{{T::symlink, "evil", "/etc"}, {T::hardlink, "h", "evil/shadow"}}, "absolute path"},
      {{{T::file, "./", "not a directory"}}, ""},
  };
  for (const auto& [entries, why] : bad) {
    auto r = import(test::build_tar(entries), media::Compression::gzip);
    ASSERT_FALSE(r.ok()) << entries.back().path;
    EXPECT_NE(r.error().what().find(why), std::string::npos) << r.error().what();
  }
  // Nothing of a refused import is left in the store.
  auto blobs = list_dir(t / "store/blobs/sha256");
  ASSERT_TRUE(blobs.ok());
  EXPECT_TRUE(blobs->empty());
}

TEST_F(ImportTest, AcceptsLinksThatStayInside) {
  using T = TarEntry;
  auto r = import(test::build_tar({{T::dir, "usr/"},
                                   {T::dir, "usr/lib/"},
                                   {T::symlink, "lib", "usr/lib"},
                                   {T::file, "lib/x", "x"},
                                   {T::dir, "d/"},
                                   {T::symlink, "d/up", ".."},
                                   {T::file, "d/up/y", "y"},
                                   {T::symlink, "bin/sh", "/bin/busybox"},
                                   {T::hardlink, "lib/h", "usr/lib/x"},
                                   {T::symlink, "evil", "/etc"},
                                   {T::dir, "evil/"},
                                   {T::file, "evil/passwd", "now a directory of the layer"}}),
                  media::Compression::gzip);
  EXPECT_TRUE(r.ok()) << r.error().what();
}

TEST_F(ImportTest, CorruptGzipIsOneErrorLine) {
  std::string z = gzip(tar);
  for (size_t at : {size_t{12}, size_t{20}, z.size() / 2}) {
    std::string bad = z;
    bad[at] = static_cast<char>(bad[at] ^ 0xff);
    auto r = import(bad, media::Compression::gzip);
    EXPECT_FALSE(r.ok());
  }
  EXPECT_FALSE(import(z.substr(0, 100), media::Compression::gzip).ok());
}

}  // namespace
}  // namespace kiln::oci
