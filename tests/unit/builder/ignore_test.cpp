// Tests for builder/ignore, with the examples of Docker's .dockerignore documentation.
#include "builder/ignore.h"

#include <gtest/gtest.h>

namespace kiln::builder {
namespace {

TEST(Ignore, DockerDocumentationExamples) {
  auto r = IgnoreRules::parse("# comment\n*/temp*\n*/*/temp*\ntemp?\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->excluded("somedir/temporary.txt"));
  EXPECT_TRUE(r->excluded("somedir/temp"));
  EXPECT_TRUE(r->excluded("somedir/subdir/temporary.txt"));
  EXPECT_TRUE(r->excluded("tempa"));
  EXPECT_FALSE(r->excluded("tempab"));
  EXPECT_FALSE(r->excluded("temporary.txt"));
}

TEST(Ignore, DoubleStarAndExceptionsLastMatchWins) {
  auto r = *IgnoreRules::parse("**/*.go\n*.md\n!README*.md\nREADME-secret.md\n");
  EXPECT_TRUE(r.excluded("main.go"));
  EXPECT_TRUE(r.excluded("a/b/c.go"));
  EXPECT_TRUE(r.excluded("notes.md"));
  EXPECT_FALSE(r.excluded("README.md"));
  EXPECT_TRUE(r.excluded("README-secret.md"));
  EXPECT_TRUE(r.has_exceptions());
}

TEST(Ignore, DirectoryExcludesItsContents) {
  auto r = *IgnoreRules::parse("/build\nnode_modules\n!build/keep.txt\n");
  EXPECT_TRUE(r.excluded("build"));
  EXPECT_TRUE(r.excluded("build/out.o"));
  EXPECT_FALSE(r.excluded("build/keep.txt"));
  EXPECT_TRUE(r.excluded("node_modules/x/y.js"));
  EXPECT_FALSE(r.excluded("src/build.c"));
}

TEST(Glob, Match) {
  EXPECT_TRUE(*glob_match("*.txt", "a.txt"));
  EXPECT_FALSE(*glob_match("*.txt", "d/a.txt"));
  EXPECT_TRUE(*glob_match("file[0-9]", "file7"));
  EXPECT_FALSE(*glob_match("file[!0-9]", "file7"));
  EXPECT_TRUE(*glob_match("a\\*b", "a*b"));
  EXPECT_FALSE(glob_match("[abc", "a").ok());
}

}  // namespace
}  // namespace kiln::builder
