// chmod(1)'s symbolic modes ("u+x", "go-w", "a=rX,u+s"), read as BSD's setmode() reads them with a umask of 0:
// the form today's BuildKit takes for COPY/ADD --chmod (through a Go port of that function).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace kiln {

class SymbolicMode {
 public:
  /// Clauses joined by ',': [ugoa]* then one or more of [+-=] each followed by [rwxXst]* and [ugo] (a copy of
  /// that class's bits). An error names the text when it is not one.
  static Result<SymbolicMode> parse(const std::string& text);
  /// The permission bits (07777) the clauses make of an entry's mode; X counts as x for a directory or for a
  /// mode that had an x before.
  uint32_t apply(mode_t mode) const;

 private:
  struct Cmd {
    char cmd;         ///< + - X, or u g o: copy that class's bits
    uint32_t bits;    ///< the bits it sets or clears (for a copy: the classes it writes)
    bool clear, set;  ///< a copy's - / + / = (both)
    bool to_u, to_g, to_o;
  };
  void add(char op, uint32_t who, uint32_t arg);
  std::vector<Cmd> m_cmds;
};

}  // namespace kiln
