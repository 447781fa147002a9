// Tests for builder/stat_cache: unchanged files are not read again, changed ones are, requests in another order
// still hit and are saved in the new order, entries a build did not ask for are kept, damaged lines are ignored.
#include "builder/stat_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "common/fd.h"
#include "tests/unit/support/temp_dir.h"

namespace kiln::builder {
namespace {

struct Files {
  test::TempDir dir;
  std::string cache = dir / "cache/stat/ctx";
  std::vector<std::string> paths;
  Files() {
    for (int i = 0; i < 5; ++i) {
      paths.push_back(dir / ("f" + std::to_string(i)));
      test::write_text(paths.back(), "content " + std::to_string(i));
    }
  }
  /// Ask a fresh cache (loaded from the file) for these files; how many it had to hash.
  size_t ask(const std::vector<std::string>& which, bool save = true) {
    StatCache c(cache);
    c.load();
    for (const auto& p : which) {
      struct stat st;
      EXPECT_EQ(::lstat(p.c_str(), &st), 0);
      auto d = c.digest(p, st);
      EXPECT_TRUE(d.ok());
      EXPECT_EQ(*d, cas::sha256_of(*read_file(p))) << p;
    }
    if (save) {
      EXPECT_TRUE(c.save().ok());
    }
    return c.hashed();
  }
  std::vector<std::string> saved_paths() {
    std::vector<std::string> out;
    std::ifstream in(cache);
    for (std::string line; std::getline(in, line);) out.push_back(line.substr(line.rfind(' ') + 1));
    return out;
  }
};

TEST(StatCache, UnchangedFilesAreNotReadAgain) {
  Files f;
  EXPECT_EQ(f.ask(f.paths), 5u);
  EXPECT_EQ(f.ask(f.paths), 0u);
  EXPECT_EQ(f.saved_paths(), f.paths);
}

TEST(StatCache, SavesThroughTheTempDirItIsGiven) {
  Files f;
  ASSERT_TRUE(make_dirs(f.dir / "tmp").ok());
  struct stat st;
  ASSERT_EQ(::lstat(f.paths[0].c_str(), &st), 0);
  StatCache c(f.cache, f.dir / "tmp");
  ASSERT_TRUE(c.digest(f.paths[0], st).ok());
  ASSERT_TRUE(c.save().ok());
  EXPECT_EQ(f.saved_paths(), std::vector<std::string>{f.paths[0]});
  EXPECT_TRUE(list_dir(f.dir / "tmp")->empty());
  StatCache gone(f.cache, f.dir / "gone");  // a temp dir that is not there: the save fails, nothing beside the file
  ASSERT_TRUE(gone.digest(f.paths[1], st).ok());
  EXPECT_FALSE(gone.save().ok());
  EXPECT_EQ(list_dir(f.dir / "cache/stat")->size(), 1u);
}

TEST(StatCache, AChangedFileIsHashedAgain) {
  Files f;
  f.ask(f.paths);
  test::write_text(f.paths[2], "other content, longer");
  EXPECT_EQ(f.ask(f.paths), 1u);
  EXPECT_EQ(f.ask(f.paths), 0u);  // and its new digest was kept
}

TEST(StatCache, OtherOrderHitsAndIsSavedInThatOrder) {
  Files f;
  f.ask(f.paths);
  std::vector<std::string> reversed(f.paths.rbegin(), f.paths.rend());
  EXPECT_EQ(f.ask(reversed), 0u);
  EXPECT_EQ(f.saved_paths(), reversed);
}

TEST(StatCache, EntriesABuildDidNotAskForAreKept) {
  Files f;
  f.ask(f.paths);
  test::write_text(f.paths[0], "changed");
  EXPECT_EQ(f.ask({f.paths[0], f.paths[1]}), 1u);  // a build of two files, one changed: saved
  auto saved = f.saved_paths();
  EXPECT_EQ(saved.size(), 5u);
  EXPECT_EQ(saved[0], f.paths[0]);
  EXPECT_EQ(saved[1], f.paths[1]);
  EXPECT_EQ(f.ask(f.paths), 0u);
}

TEST(StatCache, TheSameFileTwiceInOneBuild) {
  Files f;
  EXPECT_EQ(f.ask({f.paths[0], f.paths[0], f.paths[1]}), 2u);
  EXPECT_EQ(f.saved_paths(), (std::vector<std::string>{f.paths[0], f.paths[1]}));
  EXPECT_EQ(f.ask({f.paths[0], f.paths[1], f.paths[0]}), 0u);
}

TEST(StatCache, DamagedLinesAreIgnoredAndBadDigestsHashedAgain) {
  Files f;
  f.ask(f.paths);
  std::string text = *read_file(f.cache);
  // Line 1: a digest that is not hex; then a line cut short, and one of nonsense.
  size_t hex_at = text.find(' ', text.find(' ', text.find(' ', text.find(' ') + 1) + 1) + 1) + 1;
  text[hex_at] = 'Z';
  text += "12 34\nnonsense\n";
  test::write_text(f.cache, text);
  EXPECT_EQ(f.ask(f.paths), 1u);
  EXPECT_EQ(f.ask(f.paths), 0u);
}

TEST(StatCache, AMissingFileIsAnEmptyCache) {
  Files f;
  EXPECT_EQ(f.ask(f.paths, false), 5u);
  EXPECT_FALSE(path_exists(f.cache));
}

}  // namespace
}  // namespace kiln::builder
