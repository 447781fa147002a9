// Tests for oci/layer_unpack: a layer unpacked while it downloads is published only when its bytes and its tar
// check; a cut or lying stream leaves no tree and no temp dir, and the download is never held up.
#include "oci/layer_unpack.h"

#include <gtest/gtest.h>

#include "common/fd.h"
#include "tests/unit/support/compressed.h"
#include "tests/unit/support/tar_builder.h"
#include "tests/unit/support/temp_dir.h"

namespace kiln::oci {
namespace {

using test::TarEntry;

struct Fixture {
  test::TempDir dir;
  cas::Store store = *cas::Store::open(dir.path());
  cas::LayerTrees trees{store};
  std::string tar =
      test::build_tar({{TarEntry::dir, "etc/", ""}, {TarEntry::file, "etc/motd", std::string(300000, 'm')}});
  std::string blob = test::compressed(media::Compression::gzip, tar);

  Descriptor layer(const std::string& bytes) const {
    return Descriptor{media::oci_layer_gzip, cas::sha256_of(bytes), bytes.size(), {}, std::nullopt};
  }
  /// Feed bytes in download-sized pieces, then end the stream.
  Status download(const Descriptor& d, const cas::Digest& diff_id, const std::string& bytes) {
    auto u = LayerUnpack::start(trees, d, diff_id);
    EXPECT_TRUE(u);
    for (size_t off = 0; off < bytes.size(); off += 16384)
      u->feed(bytes.data() + off, std::min<size_t>(16384, bytes.size() - off));
    return u->finish();
  }
  size_t temp_entries() const { return list_dir(store.tmp_dir())->size(); }
};

TEST(LayerUnpack, PublishesTheTreeWhenDigestAndDiffIdCheck) {
  Fixture f;
  cas::Digest diff_id = cas::sha256_of(f.tar);
  auto st = f.download(f.layer(f.blob), diff_id, f.blob);
  ASSERT_TRUE(st.ok()) << st.error().what();
  ASSERT_TRUE(f.trees.has(diff_id));
  EXPECT_EQ(read_file(f.trees.root(diff_id) + "/etc/motd")->size(), 300000u);
  EXPECT_EQ(f.temp_entries(), 0u);
}

TEST(LayerUnpack, OtherBytesThanTheDigestLeaveNothing) {
  Fixture f;
  // A whole, valid layer, but not the one the manifest names: every entry extracts, the digest check at the end
  // refuses it.
  cas::Digest diff_id = cas::sha256_of(f.tar);
  Descriptor named = f.layer(f.blob);
  named.digest = cas::sha256_of("the layer the manifest names");
  auto st = f.download(named, diff_id, f.blob);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().what().find("hashes to " + cas::sha256_of(f.blob).str()), std::string::npos)
      << st.error().what();
  EXPECT_FALSE(f.trees.has(diff_id));
  EXPECT_EQ(f.temp_entries(), 0u);
}

TEST(LayerUnpack, ATarOtherThanTheDiffIdLeavesNothing) {
  Fixture f;
  cas::Digest claimed = cas::sha256_of("another layer's tar");
  auto st = f.download(f.layer(f.blob), claimed, f.blob);
  ASSERT_FALSE(st.ok());
  EXPECT_FALSE(f.trees.has(claimed));
  EXPECT_EQ(f.temp_entries(), 0u);
}

TEST(LayerUnpack, ACutDownloadLeavesNothing) {
  Fixture f;
  cas::Digest diff_id = cas::sha256_of(f.tar);
  auto st = f.download(f.layer(f.blob), diff_id, f.blob.substr(0, f.blob.size() / 2));
  ASSERT_FALSE(st.ok());
  EXPECT_FALSE(f.trees.has(diff_id));
  EXPECT_EQ(f.temp_entries(), 0u);
}

TEST(LayerUnpack, ARefusedLayerDoesNotHoldTheDownloadUp) {
  Fixture f;
  // Not a tar: the extractor stops at once; the rest of a large download is dropped, not waited for.
  std::string junk(8 << 20, 'j');
  cas::Digest diff_id = cas::sha256_of(junk);
  auto st = f.download(f.layer(junk), diff_id, junk);
  ASSERT_FALSE(st.ok());
  EXPECT_FALSE(f.trees.has(diff_id));
  EXPECT_EQ(f.temp_entries(), 0u);
}

}  // namespace
}  // namespace kiln::oci
