// Tests for cas/layer_trees: extract once, temp dir cleaned on failure, measure.
#include "cas/layer_trees.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/unit/support/temp_dir.h"

namespace kiln::cas {
namespace {

TEST(LayerTrees, EnsureFillsOnceAndRecordsInfo) {
  test::TempDir t;
  auto s = Store::open(t.path());
  LayerTrees trees(*s);
  Digest id = sha256_of("layer");
  int calls = 0;
  auto fill = [&](const std::string& dir) -> Result<TreeInfo> {
    ++calls;
    test::write_text(dir + "/a/b", "hello");
    return LayerTrees::measure(dir);
  };
  auto r1 = trees.ensure(id, fill);
  ASSERT_TRUE(r1.ok());
  auto r2 = trees.ensure(id, fill);
  EXPECT_EQ(*r1, *r2);
  EXPECT_EQ(calls, 1);
  auto info = trees.read_info(id);
  EXPECT_EQ(info->entries, 2u);
  EXPECT_EQ(info->bytes, 5u);
  EXPECT_EQ(trees.list()->size(), 1u);
}

TEST(LayerTrees, FailedFillLeavesNothing) {
  test::TempDir t;
  auto s = Store::open(t.path());
  LayerTrees trees(*s);
  Digest id = sha256_of("bad");
  auto r = trees.ensure(id, [](const std::string& dir) -> Result<TreeInfo> {
    test::write_text(dir + "/half", "x");
    return make_error(ErrorCode::corrupt, "boom");
  });
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(trees.has(id));
  EXPECT_TRUE(trees.list()->empty());
  EXPECT_TRUE(list_dir(s->tmp_dir())->empty());  // its temp dir is gone too
}

// A build worker's temp files are made in its own folder (which its build removes, whatever became of the
// worker), and what it finishes still lands in the store.
TEST(LayerTrees, TempFilesGoWhereTheStoreKeepsThem) {
  test::TempDir t;
  auto s = Store::open(t.path());
  LayerTrees trees(*s);  // made before the move: it follows the store, as the builder's are
  std::string mine = s->tmp_dir() + "/stage-3";
  ASSERT_EQ(::mkdir(mine.c_str(), 0700), 0);
  s->keep_temp_in(mine);
  std::string filled;
  auto r = trees.ensure(sha256_of("w"), [&](const std::string& dir) {
    filled = dir;
    return LayerTrees::measure(dir);
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(filled.rfind(mine + "/tree-", 0), 0u) << filled;
  EXPECT_EQ(r->rfind(trees.base() + "/", 0), 0u) << *r;
  auto w = s->new_blob();
  ASSERT_TRUE(w.ok());
  auto in_mine = list_dir(mine);
  ASSERT_EQ(in_mine->size(), 1u);
  EXPECT_EQ(in_mine->front().rfind("blob-", 0), 0u) << in_mine->front();
  EXPECT_EQ(*list_dir(t.path() + "/kiln/tmp"), std::vector<std::string>{"stage-3"});
}

TEST(LayerTrees, RemoveDeletesTree) {
  test::TempDir t;
  auto s = Store::open(t.path());
  LayerTrees trees(*s);
  Digest id = sha256_of("x");
  ASSERT_TRUE(trees.ensure(id, [](const std::string& d) { return LayerTrees::measure(d); }).ok());
  ASSERT_TRUE(trees.remove(id).ok());
  EXPECT_FALSE(trees.has(id));
}

}  // namespace
}  // namespace kiln::cas
