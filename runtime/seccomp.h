// Seccomp filters through libseccomp: kiln's default profile and docker/OCI JSON profiles.
#pragma once

#include <seccomp.h>

#include <string>

#include "common/error.h"
#include "runtime/caps.h"

namespace kiln::runtime {

/// A built filter, loaded in the child just before exec.
class SeccompFilter {
 public:
  SeccompFilter() = default;
  explicit SeccompFilter(scmp_filter_ctx ctx) : m_ctx(ctx) {}
  SeccompFilter(SeccompFilter&& o) noexcept : m_ctx(o.m_ctx) { o.m_ctx = nullptr; }
  SeccompFilter& operator=(SeccompFilter&& o) noexcept;
  ~SeccompFilter();
  bool empty() const { return m_ctx == nullptr; }
  /// Install in the calling thread (needs no_new_privs). Returns errno or 0; never allocates after build.
  int load() const;

 private:
  scmp_filter_ctx m_ctx = nullptr;
};

/// kiln's default profile: docker's default behaviour for what it blocks — mount and namespace syscalls,
/// module loading, kexec, bpf, keyring, ptrace and process_vm_*, perf, userfaultfd, clock setting, reboot,
/// swap, quotactl, open_by_handle_at, … return EPERM; clone/unshare with namespace flags are refused;
/// foreign syscall ABIs (i386, x32) kill the process. Calls allowed by a granted capability stay allowed.
Result<SeccompFilter> default_seccomp(CapSet caps);
/// A docker/OCI seccomp JSON profile (defaultAction, defaultErrnoRet, syscalls[{names, action, errnoRet,
/// args, includes/excludes caps}]).
Result<SeccompFilter> seccomp_from_json(const std::string& json_text, const std::string& path, CapSet caps);

}  // namespace kiln::runtime
