// Globs as Docker's builder reads them (COPY sources, ignore files): *, ?, [a-z], [^x] (a '!' there is a
// member, not a negation, as in Go's matchers), \ escapes, and ** for any number of directories. Matched by
// simulating the pattern's automaton: time is linear in the path for a given pattern, whatever the pattern (no
// backtracking, so `**/**/**/x` costs what `x` costs).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace kiln::builder {

class Glob {
 public:
  /// A syntax error (an unclosed [, a range such as [z-a]) is an error naming the pattern.
  static Result<Glob> compile(const std::string& pattern);
  /// True when the whole of path ('/'-separated) matches.
  bool match(std::string_view path) const;

 private:
  enum class Kind { literal, any_char, char_class, star, any_depth, dirs };  // dirs is "**/"
  struct Token {
    Token(Kind k, char c = 0) : kind(k), ch(c) {}
    Kind kind;
    char ch;
    bool negate = false;
    std::vector<std::pair<unsigned char, unsigned char>> ranges;  ///< for char_class
  };
  bool consumes(const Token& t, unsigned char c) const;
  std::vector<Token> m_tokens;
  /// What any match starts and ends with (the pattern's leading and trailing literals): most paths an ignore
  /// file is matched against fail these checks before the automaton runs.
  std::string m_prefix, m_suffix;
  bool m_literal = true;  ///< no wildcard at all: a match is the pattern itself
};

}  // namespace kiln::builder
