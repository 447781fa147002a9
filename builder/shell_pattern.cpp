// Shell patterns of ${VAR#pat}, ${VAR%pat}, ${VAR/pat/repl}: a small NFA run over the value, linear in its size.
#include "builder/shell_pattern.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace kiln::builder {

namespace {

struct Tok {
  enum Kind { lit, one, star } kind;
  std::string ch;  ///< lit: one UTF-8 character
};

size_t char_len(const std::string& s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
  return std::min(n, s.size() - i);
}

Result<std::vector<Tok>> compile(const std::string& p) {
  std::vector<Tok> toks;
  for (size_t i = 0; i < p.size();) {
    char c = p[i];
    if (c == '*' || c == '?') {
      toks.push_back({c == '*' ? Tok::star : Tok::one, ""});
      ++i;
      continue;
    }
    if (c == '\\' && i + 1 < p.size()) {
      char n = p[i + 1];
      if (n == '}' || n == '/') {  // escaped only to get past the ${…} parser
        ++i;
        continue;
      }
      if (n != '*' && n != '?' && n != '\\')
        return make_error(ErrorCode::invalid_argument,
                          "invalid pattern (" + p + ") in substitution: invalid escape '\\" + std::string(1, n) + "'");
      toks.push_back({Tok::lit, std::string(1, n)});
      i += 2;
      continue;
    }
    size_t n = char_len(p, i);
    toks.push_back({Tok::lit, p.substr(i, n)});
    i += n;
  }
  return toks;
}

constexpr size_t kNone = SIZE_MAX;

/// The match of toks in v from `from`: anchored there, or the leftmost start at or after it; then the shortest or
/// longest end for that start. {start, end}, or nothing.
std::optional<std::pair<size_t, size_t>> find(const std::vector<Tok>& toks, const std::string& v, size_t from,
                                              bool anchored, bool longest) {
  const size_t n = toks.size();
  std::vector<size_t> cur(n + 1, kNone), next(n + 1, kNone);  // [state] = the earliest start of a thread there
  auto close = [&](std::vector<size_t>& s) {
    for (size_t k = 0; k < n; ++k)
      if (s[k] != kNone && toks[k].kind == Tok::star) s[k + 1] = std::min(s[k + 1], s[k]);
  };
  std::optional<std::pair<size_t, size_t>> best;
  for (size_t i = from;;) {
    if (!best && (!anchored || i == from)) cur[0] = std::min(cur[0], i);
    close(cur);
    if (cur[n] != kNone && (!best || cur[n] < best->first || (cur[n] == best->first && longest)))
      best = std::make_pair(cur[n], i);
    if (best && !longest && best->first == from) return best;  // anchored shortest: the first end found
    bool alive = false;
    for (auto& s : cur) {
      if (best && s != kNone && s > best->first) s = kNone;  // a later start never wins
      alive = alive || s != kNone;
    }
    if (i >= v.size() || (!alive && (best || anchored))) return best;
    size_t len = char_len(v, i);
    std::fill(next.begin(), next.end(), kNone);
    for (size_t k = 0; k < n; ++k) {
      if (cur[k] == kNone) continue;
      const Tok& t = toks[k];
      if (t.kind == Tok::star)
        next[k] = std::min(next[k], cur[k]);
      else if (t.kind == Tok::one || v.compare(i, len, t.ch) == 0)
        next[k + 1] = std::min(next[k + 1], cur[k]);
    }
    cur.swap(next);
    i += len;
  }
}

/// The characters of s in reverse order (each UTF-8 character kept whole).
std::string reversed(const std::string& s) {
  std::vector<std::string> chars;
  for (size_t i = 0; i < s.size(); i += char_len(s, i)) chars.push_back(s.substr(i, char_len(s, i)));
  std::string out;
  for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += *it;
  return out;
}

}  // namespace

Result<std::string> trim_prefix(const std::string& value, const std::string& pattern, bool longest) {
  auto toks = TRY(compile(pattern));
  auto m = find(toks, value, 0, true, longest);
  return m ? value.substr(m->second) : value;
}

Result<std::string> trim_suffix(const std::string& value, const std::string& pattern, bool longest) {
  auto toks = TRY(compile(pattern));
  std::reverse(toks.begin(), toks.end());
  auto m = find(toks, reversed(value), 0, true, longest);
  return m ? value.substr(0, value.size() - m->second) : value;
}

Result<std::string> replace_pattern(const std::string& value, const std::string& pattern, const std::string& repl,
                                    bool all) {
  auto toks = TRY(compile(pattern));
  std::string out;
  size_t pos = 0, last_end = kNone;
  while (pos <= value.size()) {
    auto m = find(toks, value, pos, false, true);
    if (!m) break;
    auto [s, e] = *m;
    out += value.substr(pos, s - pos);
    if (s == e && s == last_end) {  // empty, right after the last match: not one
      if (s >= value.size()) break;
      out += value.substr(s, char_len(value, s));
      pos = s + char_len(value, s);
      continue;
    }
    out += repl;
    last_end = e;
    pos = e;
    if (!all) break;
    if (s == e) {  // an empty match: step over one character
      if (e >= value.size()) {
        pos = value.size() + 1;
        break;
      }
      out += value.substr(e, char_len(value, e));
      pos = e + char_len(value, e);
    }
  }
  if (pos < value.size()) out += value.substr(pos);
  return out;
}

}  // namespace kiln::builder
