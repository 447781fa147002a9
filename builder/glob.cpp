// Glob compilation and matching by automaton simulation.
#include "builder/glob.h"

#include <span>

namespace kiln::builder {

namespace {
Error bad(const std::string& pat, const std::string& why) {
  return make_error(ErrorCode::invalid_argument, "syntax error in pattern \"" + pat + "\": " + why);
}
}  // namespace

Result<Glob> Glob::compile(const std::string& pat) {
  Glob g;
  for (size_t i = 0; i < pat.size(); ++i) {
    char c = pat[i];
    if (c == '*') {
      if (i + 1 < pat.size() && pat[i + 1] == '*') {
        ++i;
        if (i + 1 < pat.size() && pat[i + 1] == '/') {
          ++i;
          g.m_tokens.push_back({Kind::dirs});  // "**/": zero or more whole directories
        } else {
          g.m_tokens.push_back({Kind::any_depth});  // "**" elsewhere: anything, '/' included
        }
      } else {
        g.m_tokens.push_back({Kind::star});
      }
    } else if (c == '?') {
      g.m_tokens.push_back({Kind::any_char});
    } else if (c == '[') {
      Token t{Kind::char_class};
      size_t j = i + 1;
      if (j < pat.size() && pat[j] == '^') {  // '!' is a member, as in Go's filepath.Match and regexp
        t.negate = true;
        ++j;
      }
      bool closed = false;
      for (bool first = true; j < pat.size(); first = false) {
        if (pat[j] == ']' && !first) {
          closed = true;
          break;
        }
        auto take = [&](unsigned char& out) -> bool {  // one character of a range, \ escapes the next
          if (pat[j] == '\\') ++j;
          if (j >= pat.size()) return false;
          out = static_cast<unsigned char>(pat[j++]);
          return true;
        };
        unsigned char lo, hi;
        if (!take(lo)) break;
        hi = lo;
        if (j + 1 < pat.size() && pat[j] == '-' && pat[j + 1] != ']') {
          ++j;
          if (!take(hi)) break;
          if (hi < lo) return bad(pat, std::string("range ") + char(lo) + "-" + char(hi) + " is backwards");
        }
        t.ranges.emplace_back(lo, hi);
      }
      if (!closed) return bad(pat, "unclosed [");
      g.m_tokens.push_back(std::move(t));
      i = j;
    } else if (c == '\\' && i + 1 < pat.size()) {
      g.m_tokens.push_back({Kind::literal, pat[++i]});
    } else {
      g.m_tokens.push_back({Kind::literal, c});
    }
  }
  size_t head = 0, tail = g.m_tokens.size();
  while (head < g.m_tokens.size() && g.m_tokens[head].kind == Kind::literal) g.m_prefix += g.m_tokens[head++].ch;
  while (tail > head && g.m_tokens[tail - 1].kind == Kind::literal) --tail;
  for (size_t i = tail; i < g.m_tokens.size(); ++i) g.m_suffix += g.m_tokens[i].ch;
  g.m_literal = head == g.m_tokens.size();
  return g;
}

bool Glob::consumes(const Token& t, unsigned char c) const {
  switch (t.kind) {
    case Kind::literal:
      return c == static_cast<unsigned char>(t.ch);
    case Kind::any_char:
    case Kind::star:
      return c != '/';
    case Kind::char_class: {
      if (c == '/') return false;
      bool in = false;
      for (auto [lo, hi] : t.ranges) in |= c >= lo && c <= hi;
      return in != t.negate;
    }
    case Kind::any_depth:
    case Kind::dirs:
      return true;
  }
  return false;
}

bool Glob::match(std::string_view path) const {
  // State i: the tokens before i are matched. State n+1+i (i a "**/"): inside it, past its start, so it may
  // only be left right after a '/'. Epsilon moves: a star, "**" or a "**/" at its start may match nothing.
  // The two state sets live on the stack for patterns of up to 63 tokens (every pattern seen in practice): an
  // ignore file is matched against every path of the context, and two heap vectors per match were most of
  // its cost (bench/context).
  if (m_literal) return path == m_prefix;
  if (!path.starts_with(m_prefix) || !path.ends_with(m_suffix)) return false;
  const size_t n = m_tokens.size();
  const size_t states = 2 * n + 2;
  char small[2][128];
  std::vector<char> big;
  char* a = small[0];
  char* b = small[1];
  if (states > sizeof small[0]) {
    big.resize(2 * states);
    a = big.data();
    b = big.data() + states;
  }
  std::span<char> cur(a, states), next(b, states);
  std::fill(cur.begin(), cur.end(), 0);
  auto close = [&](std::span<char> s) {
    for (size_t i = 0; i < n; ++i)
      if (s[i] && m_tokens[i].kind != Kind::literal && m_tokens[i].kind != Kind::any_char &&
          m_tokens[i].kind != Kind::char_class)
        s[i + 1] = 1;
  };
  cur[0] = 1;
  close(cur);
  for (char ch : path) {
    auto c = static_cast<unsigned char>(ch);
    std::fill(next.begin(), next.end(), 0);
    bool any = false;
    for (size_t i = 0; i < n; ++i) {
      bool at = cur[i], inside = cur[n + 1 + i];
      if (!at && !inside) continue;
      const Token& t = m_tokens[i];
      if (!consumes(t, c)) continue;
      switch (t.kind) {
        case Kind::star:
        case Kind::any_depth:
          next[i] = 1;
          break;
        case Kind::dirs:
          next[n + 1 + i] = 1;
          if (c == '/') next[i + 1] = 1;
          break;
        default:
          if (at) next[i + 1] = 1;
      }
      any = true;
    }
    if (!any) return false;
    close(next);
    std::swap(cur, next);
  }
  return cur[n];
}

}  // namespace kiln::builder
