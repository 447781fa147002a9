// Tests for cas/gc: unreachable blobs and trees go, reachable stay; fsck finds corruption.
#include "cas/gc.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/unit/support/temp_dir.h"

namespace kiln::cas {
namespace {

/// A tiny image: config + one layer + manifest, tagged.
struct Fixture {
  test::TempDir t;
  Store s = *Store::open(t.path());
  BlobInfo layer, config, manifest;
  Digest diff_id = sha256_of("tar");
  Fixture() {
    layer = *s.put_blob("layer-bytes");
    nlohmann::json cfg = {{"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id.str()}}}}};
    config = *s.put_blob(cfg.dump());
    nlohmann::json m = {{"schemaVersion", 2},
                        {"config", {{"digest", config.digest.str()}, {"size", config.size}}},
                        {"layers", {{{"digest", layer.digest.str()}, {"size", layer.size}}}}};
    manifest = *s.put_blob(m.dump());
    (void)s.set_tag("localhost/a:1", "application/vnd.oci.image.manifest.v1+json", manifest);
    LayerTrees trees(s);
    (void)trees.ensure(diff_id, [](const std::string& d) { return LayerTrees::measure(d); });
  }
};

TEST(Gc, KeepsReachableRemovesTheRest) {
  Fixture f;
  auto junk = *f.s.put_blob("junk");
  LayerTrees trees(f.s);
  Digest orphan = sha256_of("orphan");
  ASSERT_TRUE(trees.ensure(orphan, [](const std::string& d) { return LayerTrees::measure(d); }).ok());
  test::write_text(f.s.tmp_dir() + "/blob-leftover", "x");
  auto rep = collect_garbage(f.s);
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->blobs, 1u);
  EXPECT_EQ(rep->trees, 1u);
  EXPECT_EQ(rep->temp_files, 1u);
  EXPECT_FALSE(f.s.has_blob(junk.digest));
  EXPECT_TRUE(f.s.has_blob(f.layer.digest));
  EXPECT_TRUE(f.s.has_blob(f.config.digest));
  EXPECT_TRUE(f.s.has_blob(f.manifest.digest));
  EXPECT_TRUE(trees.has(f.diff_id));
  EXPECT_FALSE(trees.has(orphan));
  EXPECT_TRUE(check_store(f.s)->empty());
}

TEST(Gc, UntaggingFreesEverything) {
  Fixture f;
  ASSERT_TRUE(f.s.remove_tag("localhost/a:1").ok());
  auto rep = collect_garbage(f.s);
  EXPECT_EQ(rep->blobs, 3u);
  EXPECT_EQ(rep->trees, 1u);
}

TEST(Gc, WaitsForWritersOrRefusesWithoutWait) {
  Fixture f;
  auto writer = f.s.writer_lock();
  ASSERT_TRUE(writer.ok());
  auto rep = collect_garbage(f.s, {}, false);
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.error().code, ErrorCode::conflict);
}

TEST(Fsck, FindsCorruptMissingAndModified) {
  Fixture f;
  EXPECT_TRUE(check_store(f.s)->empty());
  test::write_text(f.s.blob_path(f.layer.digest), "tampered");
  LayerTrees trees(f.s);
  test::write_text(trees.root(f.diff_id) + "/added", "x");
  ::unlink(f.s.blob_path(f.config.digest).c_str());
  auto problems = *check_store(f.s);
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  EXPECT_NE(all.find("blob " + f.layer.digest.str() + " is corrupt"), std::string::npos) << all;
  EXPECT_NE(all.find(f.config.digest.str() + " is missing"), std::string::npos) << all;
  EXPECT_NE(all.find("was modified"), std::string::npos) << all;
}

}  // namespace
}  // namespace kiln::cas
