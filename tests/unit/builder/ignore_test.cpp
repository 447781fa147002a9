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
  EXPECT_FALSE(*glob_match("file[^0-9]", "file7"));
  // BuildKit's Go matchers: '!' in a class is a member, not a negation.
  EXPECT_TRUE(*glob_match("[!k]eep", "keep"));
  EXPECT_TRUE(*glob_match("[!k]eep", "!eep"));
  EXPECT_FALSE(*glob_match("[!k]eep", "feep"));
  EXPECT_TRUE(*glob_match("a\\*b", "a*b"));
  EXPECT_FALSE(glob_match("[abc", "a").ok());
}

TEST(Glob, DoubleStarAndClasses) {
  EXPECT_TRUE(*glob_match("**/x", "x"));
  EXPECT_TRUE(*glob_match("**/x", "a/b/x"));
  EXPECT_FALSE(*glob_match("**/x", "a/bx"));
  EXPECT_TRUE(*glob_match("a/**", "a/b/c"));
  EXPECT_TRUE(*glob_match("a/**/b", "a/b"));
  EXPECT_TRUE(*glob_match("a/**/b", "a/x/y/b"));
  EXPECT_TRUE(*glob_match("[^a]?", "bc"));
  EXPECT_FALSE(*glob_match("?", "/"));
  EXPECT_FALSE(*glob_match("[^a]", "/"));
  EXPECT_TRUE(*glob_match("n\\?pe", "n?pe"));
  EXPECT_FALSE(*glob_match("n\\?pe", "nope"));
  EXPECT_TRUE(*glob_match("[\\]]", "]"));
  EXPECT_TRUE(*glob_match("[a-]", "-"));
}

TEST(Glob, LiteralEndsAreCheckedFirstWithoutChangingAnswers) {
  // The pattern's leading and trailing literals reject a path early; the automaton decides the rest.
  EXPECT_FALSE(*glob_match("a*a", "a"));  // "a" both starts and ends the path, yet "a*a" needs two
  EXPECT_TRUE(*glob_match("a*a", "aa"));
  EXPECT_TRUE(*glob_match("abc", "abc"));
  EXPECT_FALSE(*glob_match("abc", "abcd"));
  EXPECT_FALSE(*glob_match("abc", "ab"));
  EXPECT_TRUE(*glob_match("a\\*", "a*"));  // an escaped star is a literal end
  EXPECT_TRUE(*glob_match("**/*.cache1", "d/x.cache1"));
  EXPECT_FALSE(*glob_match("**/*.cache1", "d/x.cache12"));
  EXPECT_TRUE(*glob_match("d10/f00*", "d10/f0042.txt"));
  EXPECT_FALSE(*glob_match("d10/f00*", "d1/f0042.txt"));
  EXPECT_TRUE(*glob_match("", ""));
  EXPECT_FALSE(*glob_match("", "x"));
  auto rules = *IgnoreRules::parse("**/*.tmp\nd10/f00*\n");
  EXPECT_TRUE(rules.excluded("a/b/c.tmp"));
  EXPECT_TRUE(rules.excluded("d10/f001/deeper/file"));  // through its parent
  EXPECT_FALSE(rules.excluded("d10/f1"));
}

TEST(Glob, BackwardsRangeIsAnErrorNotACrash) {
  auto r = glob_match("[z-a]", "m");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().what().find("[z-a]"), std::string::npos);
  EXPECT_FALSE(IgnoreRules::parse("[z-a]\n").ok());
}

TEST(Glob, PathologicalPatternIsLinear) {
  // Backtracking matchers take exponential time here (the test would hang until ctest's timeout); the
  // automaton takes |pattern| x |path| steps.
  std::string pat = "**/**/**/**/**/**/**/**/**/**/**/**/x";
  std::string path;
  for (int i = 0; i < 300; ++i) path += "d/";
  path += "y";
  EXPECT_FALSE(*glob_match(pat, path));
  EXPECT_TRUE(*glob_match(pat, path.substr(0, path.size() - 1) + "x"));
  auto rules = *IgnoreRules::parse(pat + "\n");
  EXPECT_FALSE(rules.excluded(path));
}

}  // namespace
}  // namespace kiln::builder
