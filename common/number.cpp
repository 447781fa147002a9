// Checked number parsing with std::from_chars: no locale, no exceptions, no silent wrap.
#include "common/number.h"

#include <charconv>
#include <cmath>

namespace kiln {

std::optional<uint64_t> parse_uint(std::string_view s, uint64_t max, int base) {
  if (s.empty() || s[0] == '-' || s[0] == '+') return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

std::optional<int64_t> parse_int(std::string_view s, int64_t min, int64_t max) {
  if (s.empty() || (s[0] != '-' && (s[0] < '0' || s[0] > '9'))) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < min || v > max) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  if (s.empty() || s[0] == '+' || s[0] == ' ') return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace kiln
