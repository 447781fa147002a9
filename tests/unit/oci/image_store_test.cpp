// Tests for oci/image_store: commit, resolve by name and ID prefix, layer trees, flatten.
#include "oci/image_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/fd.h"
#include "oci/tar_import.h"
#include "tests/unit/support/tar_builder.h"
#include "tests/unit/support/temp_dir.h"

namespace kiln::oci {
namespace {

using test::TarEntry;

struct ImageStoreTest : ::testing::Test {
  test::TempDir t;
  cas::Store store = *cas::Store::open(t / "store");
  ImageStore images{store};

  StoredLayer layer(const std::vector<TarEntry>& entries) {
    test::write_text(t / "l.tar", test::build_tar(entries));
    UniqueFd fd = *open_fd(t / "l.tar", O_RDONLY);
    return *import_tarball(store, fd.get(), media::Compression::gzip, "l.tar");
  }
  cas::BlobInfo commit(const std::vector<StoredLayer>& ls, const std::vector<std::string>& refs) {
    ImageConfig c;
    c.created = "2026-01-01T00:00:00Z";
    for (const auto& l : ls) c.diff_ids.push_back(l.diff_id);
    return *images.commit(c, ls, refs);
  }
};

TEST_F(ImageStoreTest, ResolveByNameAndIdPrefix) {
  auto l = layer({{TarEntry::file, "f", "1"}});
  commit({l}, {"localhost/a:1"});
  auto by_name = images.resolve("localhost/a:1");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->ref, "localhost/a:1");
  auto by_id = images.resolve(by_name->id().hex().substr(0, 12));
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->manifest_digest, by_name->manifest_digest);
  EXPECT_TRUE(images.resolve(by_name->manifest_digest.str()).ok());
  auto missing = images.resolve("localhost/a:2");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  EXPECT_FALSE(images.resolve("Bad Name").ok());
}

TEST_F(ImageStoreTest, LayerRootsAreOverlayTreesAndFlattenApplies) {
  auto l1 = layer({{TarEntry::file, "keep", "1"}, {TarEntry::file, "gone", "2"}});
  auto l2 = layer({{TarEntry::file, ".wh.gone", ""}, {TarEntry::file, "new", "3"}});
  commit({l1, l2}, {"localhost/b:1"});
  auto img = *images.resolve("localhost/b:1");
  auto roots = images.layer_roots(img);
  ASSERT_TRUE(roots.ok()) << roots.error().what();
  ASSERT_EQ(roots->size(), 2u);
  struct stat st;
  ASSERT_EQ(lstat(((*roots)[1] + "/gone").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  ASSERT_TRUE(make_dirs(t / "flat").ok());
  ASSERT_TRUE(images.flatten(img, t / "flat").ok());
  EXPECT_TRUE(path_exists(t / "flat/keep"));
  EXPECT_TRUE(path_exists(t / "flat/new"));
  EXPECT_FALSE(path_exists(t / "flat/gone"));
}

TEST_F(ImageStoreTest, CorruptLayerNeverBecomesATree) {
  auto l = layer({{TarEntry::file, "f", std::string(10000, 'x')}});
  commit({l}, {"localhost/c:1"});
  auto img = *images.resolve("localhost/c:1");
  std::string blob = *read_file(store.blob_path(l.blob.digest));
  blob[blob.size() / 2] ^= 1;
  test::write_text(store.blob_path(l.blob.digest), blob);
  auto roots = images.layer_roots(img);
  ASSERT_FALSE(roots.ok());
  EXPECT_FALSE(images.trees().has(l.diff_id));
}

TEST_F(ImageStoreTest, OneConfigTwoManifestsIsOneImageId) {
  test::write_text(t / "l.tar", test::build_tar({{TarEntry::file, "f", "1"}}));
  UniqueFd fd1 = *open_fd(t / "l.tar", O_RDONLY);
  auto gz = *import_tarball(store, fd1.get(), media::Compression::gzip, "l.tar");
  UniqueFd fd2 = *open_fd(t / "l.tar", O_RDONLY);
  auto zst = *import_tarball(store, fd2.get(), media::Compression::zstd, "l.tar");
  commit({gz}, {"localhost/e:gz"});
  commit({zst}, {"localhost/e:zst"});
  auto a = *images.resolve("localhost/e:gz");
  auto b = *images.resolve("localhost/e:zst");
  ASSERT_EQ(a.id(), b.id());
  ASSERT_NE(a.manifest_digest, b.manifest_digest);
  auto by_id = images.resolve(a.id().hex().substr(0, 12));
  ASSERT_TRUE(by_id.ok()) << by_id.error().what();
  EXPECT_EQ(by_id->id(), a.id());
  EXPECT_TRUE(images.resolve(b.manifest_digest.hex().substr(0, 12)).ok());
}

TEST_F(ImageStoreTest, DiffIdCountMismatchIsCorrupt) {
  auto l = layer({{TarEntry::file, "f", "1"}});
  ImageConfig c;  // no diff_ids for one layer
  auto m = images.commit(c, {l}, {"localhost/d:1"});
  ASSERT_TRUE(m.ok());
  auto r = images.resolve("localhost/d:1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::corrupt);
}

}  // namespace
}  // namespace kiln::oci
