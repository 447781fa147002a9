#include "common/log.h"

#include <gtest/gtest.h>

namespace kiln::log {

TEST(Log, ParsesPodmansLevelNames) {
  Level l = Level::warn;
  ASSERT_TRUE(parse_level("debug", l));
  EXPECT_EQ(l, Level::debug);
  ASSERT_TRUE(parse_level("trace", l));
  EXPECT_EQ(l, Level::debug);
  ASSERT_TRUE(parse_level("info", l));
  EXPECT_EQ(l, Level::info);
  ASSERT_TRUE(parse_level("warning", l));
  EXPECT_EQ(l, Level::warn);
  ASSERT_TRUE(parse_level("fatal", l));
  EXPECT_EQ(l, Level::error);
  EXPECT_FALSE(parse_level("loud", l));
  EXPECT_FALSE(parse_level("", l));
  EXPECT_FALSE(parse_level("DEBUG", l));
  EXPECT_EQ(l, Level::error);  // a refused name changes nothing
}

TEST(Log, LinesBelowTheLevelAreNotPrinted) {
  Level was = level();
  set_level(Level::error);
  EXPECT_FALSE(enabled(Level::warn));
  EXPECT_TRUE(enabled(Level::error));
  testing::internal::CaptureStderr();
  warn("hidden");
  set_level(Level::debug);
  debug("shown");
  std::string err = testing::internal::GetCapturedStderr();
  set_level(was);
  EXPECT_EQ(err, "kiln: debug: shown\n");
}

}  // namespace kiln::log
