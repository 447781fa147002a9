// A small shell-word processor, the way Docker's builder treats instruction arguments.
#include "builder/expand.h"

#include "builder/shell_pattern.h"

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
  /// raw: escapes stay in the word as written (a pattern of ${VAR#pat} keeps `\*` for the matcher).
  Lexer(const std::string& s, const Vars& vars, char esc, int depth = 0, bool raw = false)
      : m_s(s), m_vars(vars), m_esc(esc), m_depth(depth), m_raw(raw) {}

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
        if (m_raw) cur += c;
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
            if (m_raw) cur += d;
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

  /// At '$': $NAME, ${NAME}, and BuildKit's modifiers: ${NAME:-w} ${NAME-w} ${NAME:+w} ${NAME+w} ${NAME:?w}
  /// ${NAME?w} ${NAME#pat} ${NAME##pat} ${NAME%pat} ${NAME%%pat} ${NAME/pat/repl} ${NAME//pat/repl}.
  Result<std::string> variable() {
    ++m_i;  // '$'
    if (m_i >= m_s.size()) return std::string("$");
    if (m_s[m_i] != '{') {
      size_t start = m_i;
      m_i = name_end(m_i);
      if (m_i == start) return std::string("$");
      bool set;
      return lookup(m_s.substr(start, m_i - start), set);
    }
    size_t start = ++m_i;
    m_i = name_end(m_i);
    std::string name = m_s.substr(start, m_i - start);
    if (name.empty()) return make_error(ErrorCode::invalid_argument, "bad substitution in: " + m_s);
    bool set;
    std::string value = lookup(name, set);
    if (m_i < m_s.size() && m_s[m_i] == '}') {
      ++m_i;
      return value;
    }
    std::string op;
    if (m_i < m_s.size() && m_s[m_i] == ':') op = m_s.substr(m_i++, 1);
    if (m_i < m_s.size()) op += m_s[m_i++];
    bool colon = op.size() == 2;
    char kind = op.empty() ? 0 : op.back();
    bool known = std::string_view(colon ? "-+?" : "-+?#%/").find(kind) != std::string_view::npos && kind != 0;
    if (!known)
      return make_error(ErrorCode::invalid_argument, "unsupported modifier (" + op + ") in substitution ${" + name +
                                                         "…} in: " + m_s +
                                                         " (kiln and BuildKit take :- - :+ + :? ? # ## % %% / //)");
    if (m_depth + 1 >= kMaxNesting)
      return make_error(ErrorCode::invalid_argument,
                        "variable substitutions nested deeper than " + std::to_string(kMaxNesting));
    bool twice = (kind == '#' || kind == '%' || kind == '/') && m_i < m_s.size() && m_s[m_i] == kind;
    if (twice) ++m_i;
    std::string word_text = TRY(word_to_brace());
    bool present = colon ? !value.empty() : set;
    switch (kind) {
      case '-':
        return present ? value : TRY(expand_sub(word_text, false));
      case '+':
        return present ? TRY(expand_sub(word_text, false)) : std::string();
      case '?': {
        if (present) return value;
        std::string msg = TRY(expand_sub(word_text, false));
        if (msg.empty()) msg = set ? "is not allowed to be empty" : "is not allowed to be unset";
        return make_error(ErrorCode::invalid_argument, name + ": " + msg);
      }
      case '#':
        return trim_prefix(value, TRY(expand_sub(word_text, true)), twice);
      case '%':
        return trim_suffix(value, TRY(expand_sub(word_text, true)), twice);
      default: {  // '/'
        size_t slash = top_level(word_text, '/');
        if (slash == std::string::npos)
          return make_error(ErrorCode::invalid_argument, "syntax error: missing '/' in ${} in: " + m_s);
        std::string pattern = TRY(expand_sub(word_text.substr(0, slash), true));
        std::string repl = TRY(expand_sub(word_text.substr(slash + 1), true));
        return replace_pattern(value, pattern, repl, twice);
      }
    }
  }

  /// The text from here to the '}' that closes the substitution (nested ${…} and escaped characters skipped),
  /// with the position after it.
  Result<std::string> word_to_brace() {
    size_t end = top_level(m_s, '}', m_i);
    if (end == std::string::npos) return make_error(ErrorCode::invalid_argument, "missing '}' in: " + m_s);
    std::string w = m_s.substr(m_i, end - m_i);
    m_i = end + 1;
    return w;
  }

  /// The first `stop` in s from `from` outside nested braces and quotes and not escaped, or npos.
  size_t top_level(const std::string& s, char stop, size_t from = 0) const {
    int depth = 0;
    char quote = 0;
    for (size_t i = from; i < s.size(); ++i) {
      char c = s[i];
      if (c == m_esc && quote != '\'') {
        ++i;
      } else if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '{') {
        ++depth;
      } else if (c == stop && depth == 0) {
        return i;
      } else if (c == '}') {
        --depth;
      }
    }
    return std::string::npos;
  }

  /// A modifier's word, itself expanded (raw: escapes kept for a pattern).
  Result<std::string> expand_sub(const std::string& text, bool raw) const {
    Lexer sub(text, m_vars, m_esc, m_depth + 1, raw);
    auto word = TRY(sub.run(false));
    return word.empty() ? std::string() : word[0];
  }

  const std::string& m_s;
  const Vars& m_vars;
  char m_esc;
  int m_depth;
  bool m_raw;
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
