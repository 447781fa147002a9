// Tests for builder/expand: Docker's substitutions, quotes and escapes.
#include "builder/expand.h"

#include <gtest/gtest.h>

namespace kiln::builder {
namespace {

const Vars vars = {{"A", "apple"}, {"EMPTY", ""}, {"SP", "x y"}};

TEST(Expand, Substitutions) {
  const std::pair<const char*, const char*> cases[] = {
      {"$A", "apple"},
      {"${A}pie", "applepie"},
      {"${NOPE:-dflt}", "dflt"},
      {"${EMPTY:-dflt}", "dflt"},
      {"${EMPTY-dflt}", ""},
      {"${A:+set}", "set"},
      {"${NOPE:+set}", ""},
      {"${NOPE:-${A}}", "apple"},
      {"\\$A", "$A"},
      {"'$A'", "$A"},
      {"\"$A b\"", "apple b"},
      {"\"\\$A\"", "$A"},
      {"a$", "a$"},
      {"$NOPE", ""},
      {"pre${A}/post", "preapple/post"},
      // BuildKit's names: digits alone, or one special parameter, none of them set.
      {"$$", ""},
      {"a$$b", "ab"},
      {"$1x", "x"},
      {"$12$A", "apple"},
      {"$-dash", "dash"},
      {"${$}", ""},
      {"${1:-one}", "one"},
      {"$A-b", "apple-b"},
      // BuildKit's pattern modifiers and ? (set: the value).
      {"${A#a}", "pple"},
      {"${A##*p}", "le"},
      {"${A%p*}", "ap"},
      {"${A%%p*}", "a"},
      {"${A/p/P}", "aPple"},
      {"${A//p/P}", "aPPle"},
      {"${A#${SP% *}}", "apple"},
      {"${A#\\\\}", "apple"},  // an escaped backslash: a literal one, not at the start
      {"${A?x}", "apple"},
      {"${EMPTY?x}", ""},
      {"${NOPE#x}", ""},
      {"${A/'p'/\"q\"}", "aqple"},
  };
  for (const auto& [in, want] : cases) {
    auto r = expand_word(in, vars);
    ASSERT_TRUE(r.ok()) << in << ": " << r.error().what();
    EXPECT_EQ(*r, want) << in;
  }
  EXPECT_FALSE(expand_word("${A", vars).ok());
  auto unset = expand_word("${NOPE?}", vars);
  ASSERT_FALSE(unset.ok());
  EXPECT_NE(std::string(unset.error().what()).find("NOPE: is not allowed to be unset"), std::string::npos);
  auto empty = expand_word("${EMPTY:?say so}", vars);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(std::string(empty.error().what()).find("EMPTY: say so"), std::string::npos);
  auto colon_hash = expand_word("${A:#x}", vars);
  ASSERT_FALSE(colon_hash.ok());
  EXPECT_NE(std::string(colon_hash.error().what()).find("unsupported modifier (:#)"), std::string::npos);
  EXPECT_FALSE(expand_word("${A^}", vars).ok());
  EXPECT_FALSE(expand_word("${A/p}", vars).ok());    // no second '/'
  EXPECT_FALSE(expand_word("${A#\\q}", vars).ok());  // an escape the pattern does not know
  EXPECT_FALSE(expand_word("'open", vars).ok());
}

TEST(Expand, WordsSplitOnUnquotedSpace) {
  EXPECT_EQ(*expand_words("a \"b c\" $SP '${A}'", vars), (std::vector<std::string>{"a", "b c", "x", "y", "${A}"}));
  EXPECT_EQ(*expand_words("src/${NOPE:-x}.txt /dst/", vars), (std::vector<std::string>{"src/x.txt", "/dst/"}));
}

TEST(Expand, KeyValues) {
  auto kv = *parse_key_values("A=1 B=\"two words\" C=$A D=${A:-z}\\ x", vars);
  ASSERT_EQ(kv.size(), 4u);
  EXPECT_EQ(kv[1].second, "two words");
  EXPECT_EQ(kv[2].second, "apple");
  EXPECT_EQ(kv[3].second, "apple x");
  auto legacy = *parse_key_values("NAME some value here", vars);
  ASSERT_EQ(legacy.size(), 1u);
  EXPECT_EQ(legacy[0].second, "some value here");
  EXPECT_FALSE(parse_key_values("=x", vars).ok());
  EXPECT_FALSE(parse_key_values("novalue", vars).ok()) << "BuildKit: ENV/LABEL must have two arguments";
  EXPECT_FALSE(parse_key_values("novalue   ", vars).ok());
}

TEST(Expand, NestingAndSizeAreBounded) {
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "${a:-";
  deep += "x" + std::string(20000, '}');
  auto r = expand_word(deep, vars);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().what().find("nested deeper"), std::string::npos);
  std::string ten = "${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A}}}}}}}}}}";
  EXPECT_EQ(*expand_word(ten, vars), "apple");
  // ARG aN=${aN-1}${aN-1}, line after line, doubles the value: past 4 MiB it is an error, not 10 GB.
  Vars v = {{"a", "1"}};
  Result<std::string> grown = std::string("1");
  for (int i = 0; i < 41 && grown.ok(); ++i) {
    grown = expand_word("${a}${a}", v);
    if (grown.ok()) v["a"] = *grown;
  }
  ASSERT_FALSE(grown.ok());
  EXPECT_NE(grown.error().what().find("MiB"), std::string::npos);
}

}  // namespace
}  // namespace kiln::builder
