// Human-readable sizes and ages for listings.
#include <cstdlib>
#include <ctime>
#include <string>

#include "cli/command.h"
#include "common/number.h"
#include "oci/image.h"

namespace kiln::cli {

std::string human_size(uint64_t bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  if (u == 0)
    snprintf(buf, sizeof buf, "%lluB", static_cast<unsigned long long>(bytes));
  else
    snprintf(buf, sizeof buf, v < 10 ? "%.2f%s" : v < 100 ? "%.1f%s" : "%.0f%s", v, units[u]);
  return buf;
}

Result<std::optional<int64_t>> source_date_epoch(const std::string& given) {
  std::string ts = given;
  if (ts.empty())
    if (const char* e = ::getenv("SOURCE_DATE_EPOCH"); e && *e) ts = e;
  if (ts.empty()) return std::optional<int64_t>();
  auto n = parse_uint(ts, 253402300799);  // 9999-12-31T23:59:59Z: RFC 3339 has four year digits
  if (!n) return make_error(ErrorCode::invalid_argument, "invalid timestamp \"" + ts + "\": use seconds since the epoch");
  return std::optional<int64_t>(static_cast<int64_t>(*n));
}

std::string human_age(const std::string& rfc3339) {
  int64_t t = oci::parse_rfc3339(rfc3339);
  if (t < 0) return "N/A";
  int64_t d = static_cast<int64_t>(::time(nullptr)) - t;
  auto plural = [](int64_t n, const char* unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s") + " ago";
  };
  if (d < 1) return "Less than a second ago";
  if (d < 60) return plural(d, "second");
  if (d < 3600) return plural(d / 60, "minute");
  if (d < 86400) return plural(d / 3600, "hour");
  if (d < 86400 * 14) return plural(d / 86400, "day");
  if (d < 86400 * 60) return plural(d / (86400 * 7), "week");
  if (d < 86400 * 365 * 2) return plural(d / (86400 * 30), "month");
  return plural(d / (86400 * 365), "year");
}

}  // namespace kiln::cli
