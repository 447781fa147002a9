// Signal names.
#include "runtime/signals.h"

#include <signal.h>
#include <string.h>

#include <cctype>

#include "common/number.h"

namespace kiln::runtime {

int signal_from_name(const std::string& s) {
  if (s.empty()) return -1;
  if (std::isdigit(static_cast<unsigned char>(s[0]))) {
    auto n = parse_uint(s, NSIG - 1);
    return n && *n > 0 ? static_cast<int>(*n) : -1;
  }
  std::string n;
  for (char c : s) n += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (n.rfind("SIG", 0) == 0) n = n.substr(3);
  for (int i = 1; i < NSIG; ++i)
    if (const char* a = sigabbrev_np(i); a && n == a) return i;
  return -1;
}

}  // namespace kiln::runtime
