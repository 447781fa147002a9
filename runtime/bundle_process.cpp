// The container's process from config.json.
#include "runtime/bundle_process.h"

#include <sys/resource.h>

#include "runtime/seccomp_cache.h"

namespace kiln::runtime {

Result<std::optional<SeccompProgram>> bundle_seccomp(const BundleConfig& c, const std::string& where,
                                                     const std::string& cache_dir) {
  if (c.seccomp_json.empty()) return std::optional<SeccompProgram>{};
  auto program = TRY(cached_seccomp(cache_dir, c.caps.bounding, "oci", c.seccomp_json, [&]() -> Result<SeccompProgram> {
    prune_seccomp_cache(cache_dir);  // a miss: drop other builds' entries
    auto filter =
        TRY_CTX(seccomp_from_json(c.seccomp_json, where + " linux.seccomp", c.caps.bounding), "linux.seccomp");
    return filter.compile();
  }));
  return std::optional<SeccompProgram>{std::move(program)};
}

LaunchPlan bundle_launch_plan(const BundleConfig& c, const SeccompProgram* seccomp, int preserve_fds) {
  LaunchPlan plan;
  plan.args = c.args;
  plan.env = c.env;
  plan.cwd = c.cwd;
  ResolvedUser user;
  user.uid = c.uid;
  user.gid = c.gid;
  user.groups = c.additional_gids;
  plan.resolved = user;
  plan.caps = c.caps.bounding;
  plan.oci_caps = c.caps;
  plan.seccomp = seccomp;
  plan.no_new_privs = c.no_new_privileges;
  plan.preserve_fds = preserve_fds;
  return plan;
}

void apply_bundle_rlimits(const BundleConfig& c, int error_fd) {
  for (const auto& r : c.rlimits) {
    struct rlimit rl = {r.soft, r.hard};
    if (::setrlimit(r.resource, &rl) < 0) child_fail(error_fd, 125, "setrlimit", errno);
  }
}

}  // namespace kiln::runtime
