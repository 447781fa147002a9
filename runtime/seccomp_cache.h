// Compiled seccomp programs kept in the store: libseccomp's compile of a profile costs more than the rest of
// a container's start on kiln's side, and its result depends only on kiln, the kernel, the caps and the profile.
#pragma once

#include <functional>
#include <string>

#include "common/error.h"
#include "runtime/caps.h"
#include "runtime/seccomp.h"

namespace kiln::runtime {

/// The program for a profile: "" (kiln's default), "unconfined" (an empty program) or a docker/OCI JSON file.
/// With a cache_dir, a program compiled before under the same key (kiln's build ID, the running kernel, caps,
/// the profile's text) is read back instead of compiled; a missing, foreign or malformed entry is compiled
/// again and replaced. "" compiles every time.
Result<SeccompProgram> seccomp_program(const std::string& profile, CapSet caps, const std::string& cache_dir);

/// The program cached in cache_dir for this profile (kind: "default", "json", "oci"; its text) and caps, with
/// kiln's build ID and the running kernel in the key, else compile()'s, kept there for the next time; ""
/// cache_dir: compile() alone.
Result<SeccompProgram> cached_seccomp(const std::string& cache_dir, CapSet caps, const std::string& kind,
                                      const std::string& text, const std::function<Result<SeccompProgram>()>& compile);

/// Where a store keeps them: <root>/kiln/cache/seccomp.
inline std::string seccomp_cache_dir(const std::string& store_root) { return store_root + "/kiln/cache/seccomp"; }

/// Remove entries other builds of kiln made, and temp files of interrupted writes (kiln gc).
void prune_seccomp_cache(const std::string& cache_dir);

}  // namespace kiln::runtime
