// The last steps before exec, shared by `run` and `exec`: user, capabilities, no_new_privs, fds, seccomp,
// PATH lookup. Runs in the child; reports failure as (exit code, errno, message) over a pipe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/caps.h"
#include "runtime/seccomp.h"
#include "runtime/user.h"

namespace kiln::runtime {

/// What the child sends the parent when it cannot reach exec.
struct ChildFailure {
  int exit_code;
  int err;
  char message[512];
};

/// Everything decided before the final steps, so the child only applies it.
struct LaunchPlan {
  std::vector<std::string> args, env;
  std::string cwd = "/";
  std::string user;
  std::optional<ResolvedUser> resolved;  ///< user already resolved in the container's root, else launch does it
  CapSet caps = 0;
  /// kiln-runtime: the config's five sets (caps is then their bounding set), instead of docker's rule.
  std::optional<CapSets> oci_caps;
  const SeccompProgram* seccomp = nullptr;  ///< null or an empty program: unconfined
  bool init = false;
  /// >= 0: read one byte here before seccomp and exec (EOF: kiln is gone, give up).
  int gate_fd = -1;
  /// The seccomp program follows the gate's byte (SeccompProgram::send): kiln prepares it while the child
  /// mounts the root. Replaces seccomp.
  bool seccomp_from_gate = false;
  /// >= 0: a pidfd of the supervising kiln. A uid change clears the parent-death signal; launch sets it again
  /// and then checks here that kiln did not die in between, so the container never outlives it.
  int supervisor_pidfd = -1;
  /// kiln-runtime: >= 0, a FIFO this process holds open read-write: write one byte to ready_fd (the
  /// container is made), then wait for the byte `kiln-runtime start` writes, then go on to seccomp and exec.
  int start_fifo_fd = -1;
  int ready_fd = -1;
  /// kiln-runtime: what runs once `start` came, before the exec (the startContainer hooks); its error fails it.
  std::function<Status()> after_start;
  /// kiln run sets no_new_privs (docker only with --security-opt no-new-privileges); a RUN step and an OCI config
  /// may not. Without it, loading seccomp needs CAP_SYS_ADMIN, so the filter goes in first, before the user and
  /// capabilities change (as runc does).
  bool no_new_privs = true;
  /// fds 3 .. 3+preserve_fds-1 stay open across exec (kiln-runtime --preserve-fds).
  int preserve_fds = 0;
};

/// Resolve user[:group] against the /etc/passwd and /etc/group of the current root (the container's).
Result<ResolvedUser> resolve_user_in_root(const std::string& user);

/// child_fail's fd once nobody reads the error pipe (kiln-runtime after start): the message goes to stderr.
inline constexpr int kFailToStderr = -2;
/// Report a failure to the parent over fd and _exit. Never returns.
[[noreturn]] void child_fail(int fd, int exit_code, const std::string& message, int err = 0);

/// In the child, inside the container's root: become the user, set capabilities, no_new_privs, close fds,
/// chdir, load seccomp, optionally fork a reaper as pid 1, exec. Never returns.
[[noreturn]] void launch(const LaunchPlan& plan, int error_fd);

/// Make the controlling terminal the pty slave on fds 0-2 (child side of -t).
int attach_tty(int slave_fd);

/// Child side of -t, inside the container's root: open a pty in the container's own devpts instance, send
/// the master to kiln over sock (SCM_RIGHTS), and make the slave fds 0-2. Returns errno or 0.
int make_container_tty(int sock);
/// Parent side: receive the master fd sent by make_container_tty; -1 if the child failed before sending.
int receive_tty_master(int sock);

}  // namespace kiln::runtime
