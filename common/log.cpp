// kiln's diagnostics: one write(2) per line, so lines from threads do not interleave.
#include "common/log.h"

#include <unistd.h>

#include <atomic>

namespace kiln::log {

namespace {
std::atomic<Level> g_level{Level::warn};

void emit(Level l, const char* tag, const std::string& msg) {
  if (!enabled(l)) return;
  std::string line = "kiln: " + std::string(tag) + ": " + msg + "\n";
  ssize_t n = ::write(2, line.data(), line.size());
  (void)n;
}
}  // namespace

Level level() { return g_level.load(std::memory_order_relaxed); }
void set_level(Level l) { g_level.store(l, std::memory_order_relaxed); }

bool parse_level(std::string_view name, Level& out) {
  if (name == "debug" || name == "trace")
    out = Level::debug;
  else if (name == "info")
    out = Level::info;
  else if (name == "warn" || name == "warning")
    out = Level::warn;
  else if (name == "error" || name == "fatal" || name == "panic")
    out = Level::error;
  else
    return false;
  return true;
}

void debug(const std::string& msg) { emit(Level::debug, "debug", msg); }
void info(const std::string& msg) { emit(Level::info, "info", msg); }
void warn(const std::string& msg) { emit(Level::warn, "warning", msg); }

}  // namespace kiln::log
