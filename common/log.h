// kiln's own diagnostics on stderr, by level (`--log-level`, as podman's): warnings by default, debug lines on
// request. What a command prints as its result or progress is not logging and never goes through here.
#pragma once

#include <string>
#include <string_view>

namespace kiln::log {

enum class Level { debug, info, warn, error };

/// The level in effect: lines below it are not printed. Default warn.
Level level();
void set_level(Level l);
/// "debug", "info", "warn"/"warning", "error" (and podman's "trace" as debug, "fatal"/"panic" as error).
bool parse_level(std::string_view name, Level& out);
/// Whether a line at l is printed.
inline bool enabled(Level l) { return l >= level(); }

/// One line, "kiln: debug: …", "kiln: warning: …", when its level is enabled. Safe from any thread.
void debug(const std::string& msg);
void info(const std::string& msg);
void warn(const std::string& msg);

}  // namespace kiln::log
