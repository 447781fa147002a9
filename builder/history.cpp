// History entries in BuildKit's words, and the Go formatting they need.
#include "builder/history.h"

#include <algorithm>
#include <cstdio>

#include "runtime/process_config.h"

namespace kiln::builder {

namespace {

/// The next UTF-8 character of s at i (advancing i), or -1 for an invalid byte (i advances by one).
int32_t next_rune(const std::string& s, size_t& i) {
  auto b = static_cast<unsigned char>(s[i]);
  int len = b < 0x80 ? 1 : (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3 : (b & 0xf8) == 0xf0 ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    ++i;
    return -1;
  }
  int32_t r = len == 1 ? b : b & (0x7f >> len);
  for (int k = 1; k < len; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xc0) != 0x80) {
      ++i;
      return -1;
    }
    r = (r << 6) | (c & 0x3f);
  }
  static const int32_t min_of[] = {0, 0, 0x80, 0x800, 0x10000};
  if (r < min_of[len] || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) {
    ++i;
    return -1;
  }
  i += len;
  return r;
}

/// Whether Go's unicode.IsPrint holds, for the characters a Buildfile plausibly holds: every character but the
/// controls, spaces other than U+0020, and the format, separator and non-characters Go escapes.
bool go_printable(int32_t r) {
  if (r < 0x20 || (r >= 0x7f && r <= 0xa0) || r == 0xad) return false;
  if (r == 0x1680 || (r >= 0x2000 && r <= 0x200f) || (r >= 0x2028 && r <= 0x202f) || (r >= 0x205f && r <= 0x206f))
    return false;
  if (r == 0x3000 || r == 0xfeff || (r >= 0xfff9 && r <= 0xfffb) || (r & 0xfffe) == 0xfffe) return false;
  return true;
}

std::string hex(const char* fmt, unsigned v) {
  char buf[16];
  snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

/// One character as Go's quoting writes it inside quote (" or ').
std::string quote_char(int32_t r, char quote) {
  switch (r) {
    case '\a':
      return "\\a";
    case '\b':
      return "\\b";
    case '\f':
      return "\\f";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    case '\v':
      return "\\v";
    case '\\':
      return "\\\\";
    default:
      break;
  }
  if (r == quote) return std::string("\\") + quote;
  if (go_printable(r)) {
    std::string out;
    auto u = static_cast<uint32_t>(r);
    if (u < 0x80) {
      out += static_cast<char>(u);
    } else if (u < 0x800) {
      out += static_cast<char>(0xc0 | (u >> 6));
      out += static_cast<char>(0x80 | (u & 0x3f));
    } else if (u < 0x10000) {
      out += static_cast<char>(0xe0 | (u >> 12));
      out += static_cast<char>(0x80 | ((u >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (u & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (u >> 18));
      out += static_cast<char>(0x80 | ((u >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((u >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (u & 0x3f));
    }
    return out;
  }
  if (r < 0x80) return hex("\\x%02x", static_cast<unsigned>(r));
  if (r < 0x10000) return hex("\\u%04x", static_cast<unsigned>(r));
  return hex("\\U%08x", static_cast<unsigned>(r));
}

/// A fraction's digits without trailing zeros ("5" for 500 of 1000), "" for none.
std::string fraction(int64_t v, int digits) {
  std::string s(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, v /= 10) s[static_cast<size_t>(i)] = static_cast<char>('0' + v % 10);
  while (!s.empty() && s.back() == '0') s.pop_back();
  return s.empty() ? "" : "." + s;
}

}  // namespace

std::string go_quote(const std::string& s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    size_t at = i;
    int32_t r = next_rune(s, i);
    out += r < 0 ? hex("\\x%02x", static_cast<unsigned char>(s[at])) : quote_char(r, '"');
  }
  return out + "\"";
}

std::string go_quote_list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + go_quote(v[i]);
  return out + "]";
}

std::string go_list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + v[i];
  return out + "]";
}

std::string go_duration(int64_t ns) {
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  auto n = [](uint64_t v) { return std::to_string(v); };
  if (u < 1000) return sign + n(u) + "ns";
  if (u < 1000000) return sign + n(u / 1000) + fraction(static_cast<int64_t>(u % 1000), 3) + "\xc2\xb5s";
  if (u < 1000000000) return sign + n(u / 1000000) + fraction(static_cast<int64_t>(u % 1000000), 6) + "ms";
  uint64_t secs = u / 1000000000;
  std::string out = n(secs % 60) + fraction(static_cast<int64_t>(u % 1000000000), 9) + "s";
  if (secs >= 60) out = n(secs / 60 % 60) + "m" + out;
  if (secs >= 3600) out = n(secs / 3600) + "h" + out;
  return sign + out;
}

std::string go_quote_rune(int64_t r) {
  if (r < 0 || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) r = 0xfffd;  // Go quotes an invalid rune as U+FFFD
  return "'" + quote_char(static_cast<int32_t>(r), '\'') + "'";
}

std::string run_history(const std::vector<std::string>& argv, const std::vector<std::string>& declared_args,
                        const std::vector<std::string>& env) {
  std::string out = "RUN";
  if (!declared_args.empty()) {
    out += " |" + std::to_string(declared_args.size());
    for (const auto& name : declared_args) out += " " + name + "=" + runtime::get_env(env, name).value_or("");
  }
  for (const auto& a : argv) out += " " + a;
  return out + " # buildkit";
}

std::string copy_history(const std::string& keyword, bool parents, const std::vector<std::string>& sources,
                         const std::string& dest) {
  std::string out = keyword + (parents ? " --parents" : "");
  for (const auto& s : sources) out += " " + s;
  return out + " " + dest + " # buildkit";
}

std::string healthcheck_history(const oci::Healthcheck& h) {
  return "HEALTHCHECK &{" + go_quote_list(h.test) + " " + go_quote(go_duration(h.interval)) + " " +
         go_quote(go_duration(h.timeout)) + " " + go_quote(go_duration(h.start_period)) + " " +
         go_quote_rune(h.retries) + "}";
}

std::string expose_history(const std::vector<std::string>& ports) {
  std::vector<std::string> keys = ports;
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::string out = "EXPOSE map[";
  for (size_t i = 0; i < keys.size(); ++i) out += (i ? " " : "") + keys[i] + ":{}";
  return out + "]";
}

}  // namespace kiln::builder
