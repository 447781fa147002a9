// Tests for common/number: every malformed or out-of-range number is refused, never wrapped or thrown.
#include "common/number.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(Number, UnsignedInRangeOnly) {
  EXPECT_EQ(parse_uint("0"), 0u);
  EXPECT_EQ(parse_uint("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(parse_uint("18446744073709551616"));
  EXPECT_FALSE(parse_uint("99999999999999999999999"));
  EXPECT_EQ(parse_uint("4294967294", kMaxId), 4294967294u);
  EXPECT_FALSE(parse_uint("4294967295", kMaxId));
  EXPECT_FALSE(parse_uint("4294967296", kMaxId));
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "0x10", "1.5", "abc", "1e3"}) EXPECT_FALSE(parse_uint(bad)) << bad;
  EXPECT_EQ(parse_uint("755", 07777, 8), 0755u);
  EXPECT_FALSE(parse_uint("zzz", 07777, 8));
  EXPECT_FALSE(parse_uint("17777", 07777, 8));
  EXPECT_FALSE(parse_uint("8", 07777, 8));
}

TEST(Number, SignedWithBounds) {
  EXPECT_EQ(parse_int("-5"), -5);
  EXPECT_EQ(parse_int("7", 0, 10), 7);
  EXPECT_FALSE(parse_int("11", 0, 10));
  EXPECT_FALSE(parse_int("-9223372036854775809"));
  EXPECT_FALSE(parse_int("--1"));
  EXPECT_FALSE(parse_int("-"));
}

TEST(Number, DoubleFiniteOnly) {
  EXPECT_DOUBLE_EQ(*parse_double("1.5"), 1.5);
  EXPECT_DOUBLE_EQ(*parse_double(".5"), 0.5);
  for (const char* bad : {"", ".", "1e999", "inf", "nan", "+1", "1x", " 1"}) EXPECT_FALSE(parse_double(bad)) << bad;
}

}  // namespace
}  // namespace kiln
