// The container's process as config.json describes it, shared by kiln-runtime create and exec: the launch
// plan (user, capabilities, seccomp, no_new_privs), the seccomp filter, the rlimits.
#pragma once

#include <optional>

#include "runtime/bundle_config.h"
#include "runtime/launcher.h"
#include "runtime/seccomp.h"

namespace kiln::runtime {

/// linux.seccomp compiled (or read back from cache_dir, bundle_seccomp_cache_dir, where the same profile and
/// capabilities were compiled before); nothing when the config has none. where names the config in errors.
Result<std::optional<SeccompProgram>> bundle_seccomp(const BundleConfig& c, const std::string& where,
                                                     const std::string& cache_dir);
/// What launch applies for the config's process; seccomp must outlive the plan.
LaunchPlan bundle_launch_plan(const BundleConfig& c, const SeccompProgram* seccomp, int preserve_fds);
/// In the child: process.rlimits (child_fail on error_fd when one is refused).
void apply_bundle_rlimits(const BundleConfig& c, int error_fd);

}  // namespace kiln::runtime
