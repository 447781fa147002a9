// Tests for cas/blob_writer: verify, dedup, discard on failure and on destruction.
#include "cas/blob_writer.h"

#include <dirent.h>
#include <gtest/gtest.h>

#include "tests/unit/support/temp_dir.h"

namespace kiln::cas {
namespace {

size_t count_entries(const std::string& dir) {
  size_t n = 0;
  DIR* d = opendir(dir.c_str());
  while (struct dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

struct BlobWriterTest : ::testing::Test {
  test::TempDir t;
  std::string tmp = t / "tmp", blobs = t / "blobs";
  void SetUp() override {
    ASSERT_TRUE(make_dirs(tmp).ok());
    ASSERT_TRUE(make_dirs(blobs).ok());
  }
};

TEST_F(BlobWriterTest, CommitPublishesUnderDigest) {
  auto w = BlobWriter::create(tmp, blobs);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->write("abc", 3).ok());
  auto info = w->commit(sha256_of("abc"), 3);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 3u);
  EXPECT_EQ(*read_file(blobs + "/" + sha256_of("abc").hex()), "abc");
  EXPECT_EQ(count_entries(tmp), 0u);
}

TEST_F(BlobWriterTest, WrongDigestOrSizeIsRefusedAndLeavesNothing) {
  {
    auto w = BlobWriter::create(tmp, blobs);
    ASSERT_TRUE(w->write("abc", 3).ok());
    auto info = w->commit(sha256_of("abd"));
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.error().code, ErrorCode::corrupt);
  }
  {
    auto w = BlobWriter::create(tmp, blobs);
    ASSERT_TRUE(w->write("abc", 3).ok());
    EXPECT_FALSE(w->commit(std::nullopt, 4).ok());
  }
  EXPECT_EQ(count_entries(tmp), 0u);
  EXPECT_EQ(count_entries(blobs), 0u);
}

TEST_F(BlobWriterTest, DestructorDiscardsUncommitted) {
  {
    auto w = BlobWriter::create(tmp, blobs);
    ASSERT_TRUE(w->write("partial", 7).ok());
    EXPECT_EQ(count_entries(tmp), 1u);
  }
  EXPECT_EQ(count_entries(tmp), 0u);
}

TEST_F(BlobWriterTest, ExistingBlobIsSuccess) {
  for (int i = 0; i < 2; ++i) {
    auto w = BlobWriter::create(tmp, blobs);
    ASSERT_TRUE(w->write("same", 4).ok());
    ASSERT_TRUE(w->commit().ok());
  }
  EXPECT_EQ(count_entries(blobs), 1u);
  EXPECT_EQ(count_entries(tmp), 0u);
}

}  // namespace
}  // namespace kiln::cas
