// A small shell-word processor, the way Docker's builder treats instruction arguments.
#include "builder/expand.h"

#include <cctype>
#include <string_view>

namespace kiln::builder {

namespace {

/// Bounds on what one expansion may make: ${a:-${a:-...}} nests a lexer per level, and ARG lines that each
/// double the last grow without end. Both are errors long before they cost memory or stack.
constexpr int kMaxNesting = 64;
constexpr size_t kMaxExpansion = 4u << 20;

class Lexer {
 public:
  Lexer(const std::string& s, const Vars& vars, char esc, int depth = 0)
      : m_s(s), m_vars(vars), m_esc(esc), m_depth(depth) {}

  /// Words of the text; split=false returns exactly one word (whitespace kept).
  Result<std::vector<std::string>> run(bool split) {
    std::vector<std::string> words;
    std::string cur;
    bool have = false;
    while (m_i < m_s.size()) {
      char c = m_s[m_i];
      if (split && (c == ' ' || c == '\t' || c == '\n')) {
        if (have) words.push_back(cur);
        cur.clear();
        have = false;
        ++m_i;
        continue;
      }
      have = true;
      if (c == m_esc) {
        ++m_i;
        if (m_i < m_s.size()) cur += m_s[m_i++];
        continue;
      }
      if (c == '\'') {
        size_t end = m_s.find('\'', m_i + 1);
        if (end == std::string::npos)
          return make_error(ErrorCode::invalid_argument, "unterminated single quote in: " + m_s);
        cur += m_s.substr(m_i + 1, end - m_i - 1);
        m_i = end + 1;
        continue;
      }
      if (c == '"') {
        ++m_i;
        bool closed = false;
        while (m_i < m_s.size()) {
          char d = m_s[m_i];
          if (d == '"') {
            closed = true;
            ++m_i;
            break;
          }
          if (d == m_esc && m_i + 1 < m_s.size() &&
              (m_s[m_i + 1] == '"' || m_s[m_i + 1] == '$' || m_s[m_i + 1] == m_esc)) {
            cur += m_s[m_i + 1];
            m_i += 2;
            continue;
          }
          if (d == '$') {
            cur += TRY(variable());
            TRY(check_size(cur));
            continue;
          }
          cur += d;
          ++m_i;
        }
        if (!closed) return make_error(ErrorCode::invalid_argument, "unterminated double quote in: " + m_s);
        continue;
      }
      if (c == '$') {
        std::string value = TRY(variable());
        if (!split) {
          cur += value;
          TRY(check_size(cur));
          continue;
        }
        TRY(check_size(value));
        // Unquoted expansions split into words, as the shell (and Docker) does.
        for (char v : value) {
          if (v == ' ' || v == '\t' || v == '\n') {
            if (!cur.empty()) words.push_back(cur);
            cur.clear();
          } else {
            cur += v;
          }
        }
        have = !cur.empty();
        continue;
      }
      cur += c;
      ++m_i;
    }
    if (have || !split) words.push_back(cur);
    return words;
  }

 private:
  static Status check_size(const std::string& s) {
    if (s.size() <= kMaxExpansion) return {};
    return make_error(ErrorCode::invalid_argument,
                      "a variable expands to more than " + std::to_string(kMaxExpansion >> 20) + " MiB");
  }

  static bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

  std::string lookup(const std::string& name, bool& set) const {
    auto it = m_vars.find(name);
    set = it != m_vars.end();
    return set ? it->second : "";
  }

  /// Where the variable name starting at i ends, by BuildKit's rules: digits ($1, $12) or one special
  /// parameter ($$, $@, $*, $#, $?, $-, $!) are a name of their own, which no ENV or ARG sets; else letters,
  /// digits and '_'.
  size_t name_end(size_t i) const {
    if (i >= m_s.size()) return i;
    if (std::isdigit(static_cast<unsigned char>(m_s[i]))) {
      while (i < m_s.size() && std::isdigit(static_cast<unsigned char>(m_s[i]))) ++i;
      return i;
    }
    if (std::string_view("@*#?-$!").find(m_s[i]) != std::string_view::npos) return i + 1;
    while (i < m_s.size() && name_char(m_s[i])) ++i;
    return i;
  }

  /// At '$': $NAME, ${NAME}, ${NAME:-word}, ${NAME:+word}, ${NAME-word}, ${NAME+word}.
  Result<std::string> variable() {
    ++m_i;  // '$'
    if (m_i >= m_s.size()) return std::string("$");
    if (m_s[m_i] == '{') {
      size_t start = ++m_i;
      m_i = name_end(m_i);
      std::string name = m_s.substr(start, m_i - start);
      if (name.empty()) return make_error(ErrorCode::invalid_argument, "bad substitution in: " + m_s);
      if (m_i < m_s.size() && m_s[m_i] == '}') {
        ++m_i;
        bool set;
        return lookup(name, set);
      }
      bool colon = m_i < m_s.size() && m_s[m_i] == ':';
      if (colon) ++m_i;
      if (m_i >= m_s.size() || (m_s[m_i] != '-' && m_s[m_i] != '+'))
        return make_error(ErrorCode::invalid_argument,
                          "bad substitution ${" + name + "…} in: " + m_s + " (supported: :- and :+)");
      char op = m_s[m_i++];
      // The word runs to the matching '}', and is itself expanded.
      int depth = 1;
      size_t wstart = m_i;
      while (m_i < m_s.size() && depth > 0) {
        if (m_s[m_i] == '{')
          ++depth;
        else if (m_s[m_i] == '}')
          --depth;
        if (depth > 0) ++m_i;
      }
      if (depth != 0) return make_error(ErrorCode::invalid_argument, "missing '}' in: " + m_s);
      std::string word_text = m_s.substr(wstart, m_i - wstart);
      ++m_i;
      bool set;
      std::string value = lookup(name, set);
      bool present = colon ? !value.empty() : set;
      if (m_depth + 1 >= kMaxNesting)
        return make_error(ErrorCode::invalid_argument,
                          "variable substitutions nested deeper than " + std::to_string(kMaxNesting));
      Lexer sub(word_text, m_vars, m_esc, m_depth + 1);
      auto word = TRY(sub.run(false));
      if (op == '-') return present ? value : word[0];
      return present ? word[0] : std::string();
    }
    size_t start = m_i;
    m_i = name_end(m_i);
    if (m_i == start) return std::string("$");
    bool set;
    return lookup(m_s.substr(start, m_i - start), set);
  }

  const std::string& m_s;
  const Vars& m_vars;
  char m_esc;
  int m_depth;
  size_t m_i = 0;
};

}  // namespace

Result<std::string> expand_word(const std::string& text, const Vars& vars, char escape) {
  Lexer l(text, vars, escape);
  auto w = TRY(l.run(false));
  return w.empty() ? std::string() : w[0];
}

Result<std::vector<std::string>> expand_words(const std::string& text, const Vars& vars, char escape) {
  Lexer l(text, vars, escape);
  return l.run(true);
}

Result<std::vector<ArgDecl>> parse_arg_decls(const std::string& text, const Vars& vars, char escape) {
  // Words split at unquoted, unescaped white space; quotes stay for the expansion of each value.
  std::vector<std::string> words;
  std::string cur;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == escape && i + 1 < text.size()) {
      cur += c;
      cur += text[++i];
    } else if (quote) {
      if (c == quote) quote = 0;
      cur += c;
    } else if (c == '"' || c == '\'') {
      quote = c;
      cur += c;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (!cur.empty()) words.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (quote) return make_error(ErrorCode::invalid_argument, "unterminated quote in: " + text);
  if (!cur.empty()) words.push_back(std::move(cur));
  if (words.empty()) return make_error(ErrorCode::invalid_argument, "ARG needs a name");
  std::vector<ArgDecl> out;
  for (const auto& w : words) {
    auto eq = w.find('=');
    ArgDecl d{w.substr(0, eq), std::nullopt};
    if (d.name.empty()) return make_error(ErrorCode::invalid_argument, "ARG needs a name, found \"" + w + "\"");
    if (eq != std::string::npos) d.value = TRY(expand_word(w.substr(eq + 1), vars, escape));
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> parse_key_values(const std::string& text, const Vars& vars,
                                                                          char escape) {
  std::vector<std::pair<std::string, std::string>> out;
  // Split into raw words first (keeping quotes), so "k=v w" stays one value only when quoted.
  std::vector<std::string> raw;
  std::string cur;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote) {
      if (c == escape && quote == '"' && i + 1 < text.size()) {
        cur += c;
        cur += text[++i];
        continue;
      }
      if (c == quote) quote = 0;
      cur += c;
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
      cur += c;
      continue;
    }
    if (c == escape && i + 1 < text.size()) {
      cur += c;
      cur += text[++i];
      continue;
    }
    if (c == ' ' || c == '\t') {
      if (!cur.empty()) raw.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  if (quote) return make_error(ErrorCode::invalid_argument, "unterminated quote in: " + text);
  if (!cur.empty()) raw.push_back(cur);
  if (raw.empty()) return out;
  if (raw[0].find('=') == std::string::npos) {
    // Legacy "ENV key value with spaces" (LABEL too): the rest of the line is the one value, and there must be one.
    std::string key = raw[0];
    if (raw.size() < 2)
      return make_error(ErrorCode::invalid_argument,
                        "\"" + key + "\" has no value: write KEY=VALUE (or the old form KEY VALUE)");
    auto sp = text.find_first_of(" \t", text.find(key) + key.size());
    std::string rest = text.substr(text.find_first_not_of(" \t", sp));  // raw[1] is there: not npos
    out.emplace_back(key, TRY(expand_word(rest, vars, escape)));
    return out;
  }
  for (const auto& w : raw) {
    auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0)
      return make_error(ErrorCode::invalid_argument, "expected KEY=VALUE, found \"" + w + "\"");
    std::string key = TRY(expand_word(w.substr(0, eq), vars, escape));
    out.emplace_back(key, TRY(expand_word(w.substr(eq + 1), vars, escape)));
  }
  return out;
}

}  // namespace kiln::builder
