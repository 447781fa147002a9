// Checked number parsing: every number kiln reads from a user, a file or the network goes through here, so
// an out-of-range or malformed value is an error (or an empty optional), never an exception or a wrap.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kiln {

/// Digits of the base only (no sign, no space, no "0x"), at most max: the value, else nothing.
std::optional<uint64_t> parse_uint(std::string_view s, uint64_t max = UINT64_MAX, int base = 10);
/// An optional '-' then decimal digits, within [min, max].
std::optional<int64_t> parse_int(std::string_view s, int64_t min = INT64_MIN, int64_t max = INT64_MAX);
/// A finite decimal number ("1.5", "2", ".5", "1e3"); inf, nan and overflow are refused.
std::optional<double> parse_double(std::string_view s);

/// The largest id a user or group may have: (uid_t)-1 means "unchanged" to setresuid, so it is never an id.
inline constexpr uint64_t kMaxId = 4294967294u;

}  // namespace kiln
