// Depth-bounded JSON parsing.
#include "common/json.h"

#include <string>

namespace kiln {

bool json_depth_within(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

nlohmann::json parse_json(std::string_view text) {
  if (!json_depth_within(text))
    throw nlohmann::json::parse_error::create(
        101, 0, "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels", nullptr);
  return nlohmann::json::parse(text);
}

std::string json_text(const nlohmann::json& j, int indent) {
  return j.dump(indent, indent == 1 ? '\t' : ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace kiln
