// kiln's default seccomp profile, with docker's semantics: a list of allowed system calls, EPERM for every
// other call kiln knows, ENOSYS for calls newer than kiln (so libc falls back, as it does on an older kernel).
#pragma once

#include <string>
#include <vector>

#include "runtime/seccomp.h"

namespace kiln::runtime {

/// Every system call name in the default profile's tables (allowed outright, allowed for a capability, or
/// filtered by argument), for tests: each must be a real x86-64 call to libseccomp.
std::vector<std::string> default_profile_names();

/// Calls with numbers above this (on x86-64) are newer than kiln's tables: ENOSYS.
int default_profile_newest_call();

}  // namespace kiln::runtime
