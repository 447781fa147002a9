// chmod(1)'s symbolic modes: the clauses become a list of set, clear, X and copy commands (BSD's bitcmd), applied
// in order to an entry's mode.
#include "common/symbolic_mode.h"

#include <sys/stat.h>

namespace kiln {

namespace {

constexpr uint32_t kStandard = S_ISUID | S_ISGID | S_IRWXU | S_IRWXG | S_IRWXO;
constexpr uint32_t kExec = S_IXUSR | S_IXGRP | S_IXOTH;
constexpr uint32_t kAll = 07777;  // the umask's complement: kiln applies no umask, as BuildKit

}  // namespace

void SymbolicMode::add(char op, uint32_t who, uint32_t arg) {
  if (op == '=') {  // clear what it names, then set
    m_cmds.push_back({'-', who ? who : kStandard, false, false, false, false, false});
    op = '+';
  }
  if (op == '+' || op == '-' || op == 'X') {
    m_cmds.push_back({op, (who ? who : kAll) & arg, false, false, false, false, false});
    return;
  }
  Cmd c{op, who ? ~0u : kAll, arg == '-' || arg == '=', arg == '+' || arg == '=', false, false, false};
  c.to_u = !who || (who & S_IRUSR);
  c.to_g = !who || (who & S_IRGRP);
  c.to_o = !who || (who & S_IROTH);
  m_cmds.push_back(c);
}

Result<SymbolicMode> SymbolicMode::parse(const std::string& text) {
  SymbolicMode m;
  auto bad = [&] {
    return make_error(ErrorCode::invalid_argument,
                      "invalid mode " + text + ": give octal (755) or symbolic clauses such as u+x,go-w");
  };
  size_t i = 0;
  bool equal_done = false;
  while (true) {
    uint32_t who = 0;
    for (; i < text.size(); ++i) {
      char c = text[i];
      if (c == 'a')
        who |= kStandard;
      else if (c == 'u')
        who |= S_ISUID | S_IRWXU;
      else if (c == 'g')
        who |= S_ISGID | S_IRWXG;
      else if (c == 'o')
        who |= S_IRWXO;
      else
        break;
    }
    while (true) {  // one or more operators for these classes
      if (i >= text.size()) return bad();
      char op = text[i++];
      if (op != '+' && op != '-' && op != '=') return bad();
      if (op == '=') equal_done = false;
      who &= ~static_cast<uint32_t>(S_ISVTX);
      uint32_t perm = 0, perm_x = 0;
      for (;; ++i) {
        char b = i < text.size() ? text[i] : 0;
        if (b == 'r') {
          perm |= S_IRUSR | S_IRGRP | S_IROTH;
        } else if (b == 'w') {
          perm |= S_IWUSR | S_IWGRP | S_IWOTH;
        } else if (b == 'x') {
          perm |= kExec;
        } else if (b == 'X') {
          (op == '-' ? perm : perm_x) |= kExec;
        } else if (b == 's') {
          if (!who || (who & ~static_cast<uint32_t>(S_IRWXO))) perm |= S_ISUID | S_ISGID;  // not for o alone
        } else if (b == 't') {
          if (!who || (who & ~static_cast<uint32_t>(S_IRWXO))) {
            who |= S_ISVTX;
            perm |= S_ISVTX;
          }
        } else if (b == 'u' || b == 'g' || b == 'o') {
          if (perm) m.add(op, who, perm);
          perm = 0;
          if (op == '=') equal_done = true;
          if (perm_x) m.add('X', who, perm_x);
          perm_x = 0;
          m.add(b, who, static_cast<uint32_t>(op));
        } else {
          if (perm || (op == '=' && !equal_done)) {
            if (op == '=') equal_done = true;
            m.add(op, who, perm);
          }
          if (perm_x) m.add('X', who, perm_x);
          break;
        }
      }
      if (i >= text.size()) return m;
      if (text[i] == ',') break;
    }
    ++i;  // ','
  }
}

uint32_t SymbolicMode::apply(mode_t mode) const {
  const uint32_t old = mode & 07777;
  uint32_t now = old;
  for (const auto& c : m_cmds) {
    if (c.cmd == '+') {
      now |= c.bits;
    } else if (c.cmd == '-') {
      now &= ~c.bits;
    } else if (c.cmd == 'X') {
      if ((old & kExec) || S_ISDIR(mode)) now |= c.bits;
    } else {  // a copy of one class's rwx into the classes named
      uint32_t v = c.cmd == 'u' ? (now & S_IRWXU) >> 6 : c.cmd == 'g' ? (now & S_IRWXG) >> 3 : now & S_IRWXO;
      uint32_t clr = c.set ? S_IRWXO : v;  // '=' clears every bit of the class first
      if (c.clear) {
        if (c.to_u) now &= ~((clr << 6) & c.bits);
        if (c.to_g) now &= ~((clr << 3) & c.bits);
        if (c.to_o) now &= ~(clr & c.bits);
      }
      if (c.set) {
        if (c.to_u) now |= (v << 6) & c.bits;
        if (c.to_g) now |= (v << 3) & c.bits;
        if (c.to_o) now |= v & c.bits;
      }
    }
  }
  return now & 07777;
}

}  // namespace kiln
