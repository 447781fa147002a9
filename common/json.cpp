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

namespace {
[[noreturn]] void bad_number(const char* key, const char* why) {
  throw nlohmann::json::type_error::create(302, std::string("\"") + key + "\" " + why, nullptr);
}
const nlohmann::json* member(const nlohmann::json& j, const char* key, bool required) {
  if (!j.is_object()) bad_number(key, "is in something that is not an object");
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) throw nlohmann::json::out_of_range::create(403, std::string("key '") + key + "' not found", nullptr);
    return nullptr;
  }
  return &*it;
}
}  // namespace

int64_t json_int(const nlohmann::json& j, const char* key, std::optional<int64_t> def, int64_t min, int64_t max) {
  const auto* v = member(j, key, !def);
  if (!v) return *def;
  int64_t n = 0;
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) bad_number(key, "is out of range");
    n = static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    n = v->get<int64_t>();
  } else {
    bad_number(key, "must be a whole number");
  }
  if (n < min || n > max) bad_number(key, "is out of range");
  return n;
}

uint64_t json_uint(const nlohmann::json& j, const char* key, std::optional<uint64_t> def, uint64_t max) {
  const auto* v = member(j, key, !def);
  if (!v) return *def;
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > max) bad_number(key, "is out of range");
    return u;
  }
  if (v->is_number_integer()) bad_number(key, "must not be negative");
  bad_number(key, "must be a whole number");
}

std::string json_text(const nlohmann::json& j, int indent) {
  return j.dump(indent, indent == 1 ? '\t' : ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace kiln
