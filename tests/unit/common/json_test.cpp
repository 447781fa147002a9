// Tests for common/json: nesting is bounded where JSON is read, and invalid UTF-8 never throws where it is written.
#include "common/json.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(Json, DepthBound) {
  EXPECT_TRUE(json_depth_within("{\"a\":[1,{\"b\":[]}]}", 4));
  EXPECT_FALSE(json_depth_within("{\"a\":[1,{\"b\":[]}]}", 3));
  // Brackets inside strings, escaped quotes included, are text.
  EXPECT_TRUE(json_depth_within("[\"[[[[\\\"[[[[\"]", 1));
  std::string deep = std::string(200000, '[') + std::string(200000, ']');
  EXPECT_FALSE(json_depth_within(deep));
  EXPECT_THROW(parse_json(deep), nlohmann::json::parse_error);
  std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_NO_THROW(parse_json(ok));
}

TEST(Json, InvalidUtf8IsReplacedNotThrown) {
  nlohmann::json j = {{"env", std::string("X=\xff\xfe")}};
  std::string text;
  ASSERT_NO_THROW(text = json_text(j));
  EXPECT_EQ(text, "{\"env\":\"X=\xEF\xBF\xBD\xEF\xBF\xBD\"}");
  EXPECT_EQ(json_text(nlohmann::json{{"a", 1}}), "{\"a\":1}");
}

}  // namespace
}  // namespace kiln
