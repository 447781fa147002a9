// Signal names as users write them: "SIGTERM", "TERM", "15".
#pragma once

#include <string>

namespace kiln::runtime {

/// The signal number, or -1 if the name is unknown.
int signal_from_name(const std::string& name);

}  // namespace kiln::runtime
