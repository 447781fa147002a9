// Seccomp filters through libseccomp: kiln's default profile and docker/OCI JSON profiles.
#pragma once

#include <linux/filter.h>
#include <seccomp.h>

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/caps.h"

namespace kiln::runtime {

/// The classic BPF program a filter compiles to, as the kernel takes it; installed in the child just before exec.
struct SeccompProgram {
  std::vector<struct sock_filter> insns;
  bool empty() const { return insns.empty(); }
  /// Install in the calling thread; no_new_privs must be set already. errno or 0; never allocates.
  int install() const;
  /// The program held in the first size bytes of fd, if size is a whole number of instructions within the
  /// kernel's limit and they read back whole.
  static std::optional<SeccompProgram> read(int fd, int64_t size);
  /// Over a stream socket: the instruction count, then the instructions (none: unconfined).
  bool send(int sock) const;
  /// What send sent; nullopt on EOF, a short read or a count over the kernel's limit.
  static std::optional<SeccompProgram> receive(int sock);
};

/// A filter being built with libseccomp's rule API.
class SeccompFilter {
 public:
  SeccompFilter() = default;
  explicit SeccompFilter(scmp_filter_ctx ctx) : m_ctx(ctx) {}
  SeccompFilter(SeccompFilter&& o) noexcept : m_ctx(o.m_ctx) { o.m_ctx = nullptr; }
  SeccompFilter& operator=(SeccompFilter&& o) noexcept;
  ~SeccompFilter();
  bool empty() const { return m_ctx == nullptr; }
  /// The BPF program libseccomp generates for these rules (empty for an empty filter).
  Result<SeccompProgram> compile() const;

 private:
  scmp_filter_ctx m_ctx = nullptr;
};

/// kiln's default profile (runtime/seccomp_default.cpp): docker's allow list, with its capability-dependent
/// and argument rules; EPERM for the calls kiln knows and does not allow, ENOSYS for newer ones; foreign
/// syscall ABIs (i386, x32) kill the process.
Result<SeccompFilter> default_seccomp(CapSet caps);
/// Syscall numbers as a binary tree: the kernel runs a new filter for every syscall number to fill its
/// action cache, so shorter paths install faster.
void sort_seccomp_as_tree(scmp_filter_ctx ctx);
/// A docker/OCI seccomp JSON profile (defaultAction, defaultErrnoRet, syscalls[{names, action, errnoRet,
/// args, includes/excludes caps}]).
Result<SeccompFilter> seccomp_from_json(const std::string& json_text, const std::string& path, CapSet caps);

}  // namespace kiln::runtime
