// JSON from outside kiln (registries, archives, the store, user files) parsed with a bound on nesting:
// nlohmann parses any depth, but copying, printing or destroying a value recurses once per level, so a
// document 200,000 levels deep would overflow the stack later, far from where it was read.
#pragma once

#include <nlohmann/json.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

namespace kiln {

/// Deeper than any image, index, config or state kiln reads (docker's own JSON is a handful of levels).
inline constexpr size_t kMaxJsonDepth = 256;

/// True when no array or object in text nests deeper than max_depth (strings are skipped; the text need
/// not be valid JSON).
bool json_depth_within(std::string_view text, size_t max_depth = kMaxJsonDepth);

/// nlohmann::json::parse, refusing documents nested deeper than kMaxJsonDepth with a parse_error (the
/// exception the callers already catch for malformed JSON).
nlohmann::json parse_json(std::string_view text);

/// j[key] as a whole number within [min, max]; def when absent or null (a missing key with no def throws
/// out_of_range, like at()). A fraction, another type or a value out of range throws type_error, the callers'
/// "malformed" path: nlohmann's get<int> of such a number is undefined behaviour.
int64_t json_int(const nlohmann::json& j, const char* key, std::optional<int64_t> def, int64_t min, int64_t max);
uint64_t json_uint(const nlohmann::json& j, const char* key, std::optional<uint64_t> def, uint64_t max = UINT64_MAX);

/// The value's text. Strings that are not UTF-8 (an -e value, a label, a build arg) have their bad bytes
/// replaced by U+FFFD, as Go's encoding/json writes them in docker's configs, instead of throwing.
std::string json_text(const nlohmann::json& j, int indent = -1);

}  // namespace kiln
