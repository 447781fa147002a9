// Tests for common/error: Result, TRY propagation and context.
#include "common/error.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

Result<int> half(int x) {
  if (x % 2) return make_error(ErrorCode::invalid_argument, std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> quarter(int x) {
  int h = TRY_CTX(half(x), "first half");
  return TRY(half(h));
}

TEST(Error, TryPropagatesValueAndError) {
  EXPECT_EQ(*quarter(8), 2);
  auto r = quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().what(), "3 is odd");
  auto r2 = quarter(5);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().what(), "first half: 5 is odd");
  EXPECT_EQ(r2.error().code, ErrorCode::invalid_argument);
}

TEST(Error, SysErrorCarriesErrno) {
  Error e = sys_error("open /x", ENOENT);
  EXPECT_EQ(e.sys_errno, ENOENT);
  EXPECT_EQ(e.code, ErrorCode::not_found);
  EXPECT_NE(e.what().find("No such file"), std::string::npos);
}

}  // namespace
}  // namespace kiln
