// Tests for runtime/user_namespace: reading /etc/subuid and /etc/subgid ranges.
#include "runtime/user_namespace.h"

#include <gtest/gtest.h>

namespace kiln::runtime {
namespace {

TEST(SubidRange, FoundByNameOrByUid) {
  std::string text = "alice:100000:65536\nbob:165536:65536\n1002:231072:1000\n";
  auto a = find_subid_range(text, "alice", 1000);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->start, 100000u);
  EXPECT_EQ(a->count, 65536u);
  auto c = find_subid_range(text, "carol", 1002);
  ASSERT_TRUE(c.has_value()) << "a line may name the user by uid";
  EXPECT_EQ(c->start, 231072u);
  EXPECT_EQ(c->count, 1000u);
  EXPECT_FALSE(find_subid_range(text, "dave", 1003).has_value());
}

TEST(SubidRange, TheFirstGoodLineWins) {
  auto r = find_subid_range("alice:1:0\nalice:x:5\nalice:200000:10\nalice:300000:10\n", "alice", 1000);
  ASSERT_TRUE(r.has_value()) << "a zero count and a bad number are skipped";
  EXPECT_EQ(r->start, 200000u);
}

TEST(SubidRange, MalformedLinesAreSkipped) {
  for (const char* text : {"", "alice", "alice:100000", "alice:100000:", "alice::5", "alice:5:5x", ":1:2", "\n\n"})
    EXPECT_FALSE(find_subid_range(text, "alice", 1000).has_value()) << text;
  EXPECT_FALSE(find_subid_range("alice2:1:5\n", "alice", 1000).has_value()) << "names match whole";
}

}  // namespace
}  // namespace kiln::runtime
