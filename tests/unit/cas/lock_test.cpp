// Tests for cas/lock: shared locks coexist, exclusive excludes.
#include "cas/lock.h"

#include <gtest/gtest.h>

#include "tests/unit/support/temp_dir.h"

namespace kiln::cas {
namespace {

TEST(FileLock, SharedCoexistExclusiveExcludes) {
  test::TempDir t;
  std::string p = t / "lock";
  auto a = FileLock::acquire(p, FileLock::Mode::shared);
  ASSERT_TRUE(a.ok());
  auto b = FileLock::try_acquire(p, FileLock::Mode::shared);
  ASSERT_TRUE(b.ok());
  auto c = FileLock::try_acquire(p, FileLock::Mode::exclusive);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::conflict);
  a = make_error(ErrorCode::generic, "drop");
  b = make_error(ErrorCode::generic, "drop");
  EXPECT_TRUE(FileLock::try_acquire(p, FileLock::Mode::exclusive).ok());
}

}  // namespace
}  // namespace kiln::cas
