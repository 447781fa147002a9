// Tests for builder/shell_pattern: ${VAR#pat}, ${VAR%pat}, ${VAR/pat/repl} matching as the shell and BuildKit do.
#include "builder/shell_pattern.h"

#include <gtest/gtest.h>

#include <string>

namespace kiln::builder {
namespace {

std::string pre(const std::string& v, const std::string& p, bool longest) { return *trim_prefix(v, p, longest); }
std::string suf(const std::string& v, const std::string& p, bool longest) { return *trim_suffix(v, p, longest); }
std::string rep(const std::string& v, const std::string& p, const std::string& r, bool all) {
  return *replace_pattern(v, p, r, all);
}

// Each expectation is what bash prints for the same expansion.
TEST(ShellPattern, TrimsShortestOrLongestPrefixAndSuffix) {
  const std::string a = "hello.tar.gz";
  EXPECT_EQ(pre(a, "h*l", false), "lo.tar.gz");
  EXPECT_EQ(pre(a, "h*l", true), "o.tar.gz");
  EXPECT_EQ(pre(a, "*.", false), "tar.gz");
  EXPECT_EQ(pre(a, "*.", true), "gz");
  EXPECT_EQ(pre(a, "", false), a);
  EXPECT_EQ(pre(a, "x*", true), a);  // no match: unchanged
  EXPECT_EQ(suf(a, ".*", false), "hello.tar");
  EXPECT_EQ(suf(a, ".*", true), "hello");
  EXPECT_EQ(suf(a, "gz", false), "hello.tar.");
  EXPECT_EQ(pre("v1.2.3", "v", false), "1.2.3");
  EXPECT_EQ(pre("", "*", true), "");
}

TEST(ShellPattern, ReplacesLeftmostLongestOrEveryMatch) {
  const std::string a = "hello.tar.gz";
  EXPECT_EQ(rep(a, "l*", "X", false), "heX");
  EXPECT_EQ(rep(a, "l", "L", false), "heLlo.tar.gz");
  EXPECT_EQ(rep(a, "l", "L", true), "heLLo.tar.gz");
  EXPECT_EQ(rep(a, "l", "", true), "heo.tar.gz");
  EXPECT_EQ(rep(a, "?", ".", true), "............");
  EXPECT_EQ(rep(a, "*", "x", true), "x");  // the empty match at the end, right after it, is not another
  EXPECT_EQ(rep(a, "nomatch", "x", true), a);
  EXPECT_EQ(rep("aaa", "a", "bb", true), "bbbbbb");
}

TEST(ShellPattern, CharactersAreUtf8AndEscapesAreLiterals) {
  const std::string u = "ünï.cödé";
  EXPECT_EQ(pre(u, "?", false), "nï.cödé");
  EXPECT_EQ(suf(u, "?", false), "ünï.cöd");
  EXPECT_EQ(rep(u, "ö", "o", true), "ünï.codé");
  EXPECT_EQ(pre("a*b?c", "a\\*", false), "b?c");
  EXPECT_EQ(rep("a*b?c", "\\?", "Q", false), "a*bQc");
  EXPECT_EQ(pre("a}b", "a\\}", false), "b");  // \} got past the ${…} parser; the backslash is no part of it
  auto bad = trim_prefix("x", "\\q", false);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.error().what()).find("invalid escape '\\q'"), std::string::npos);
}

TEST(ShellPattern, LongValuesStayLinear) {
  std::string big(1 << 20, 'a');  // 1 MiB and a pattern that never matches: one pass per start would be 10^12
  EXPECT_EQ(rep(big, "*b", "x", true), big);
  EXPECT_EQ(suf(big, "*b", true), big);
}

}  // namespace
}  // namespace kiln::builder
