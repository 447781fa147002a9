// Network namespaces: unshare, lo up, keep an fd, setns back.
#include "runtime/netns.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "common/identity.h"

namespace kiln::runtime {

namespace {

/// lo up in the calling thread's network namespace; errno on failure. Allocates nothing.
int raise_loopback() {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  struct ifreq ifr = {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  int err = 0;
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) < 0) err = errno;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (err == 0 && ::ioctl(s, SIOCSIFFLAGS, &ifr) < 0) err = errno;
  ::close(s);
  return err;
}

}  // namespace

Status loopback_up() {
  if (int err = raise_loopback(); err != 0) return sys_error("bring lo up", err);
  return {};
}

namespace {

/// Rootless: kiln may leave its network namespace but not come back (the host's namespace belongs to the
/// host's user namespace), so a child process makes the new one and sends it over. Raw calls only: kiln may
/// have threads, and the child allocates nothing.
Result<UniqueFd> make_in_child() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return sys_error("socketpair");
  UniqueFd mine(sv[0]), theirs(sv[1]);
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork for the container's network namespace");
  if (pid == 0) {
    if (::unshare(CLONE_NEWNET) < 0) ::_exit(1);
    if (raise_loopback() != 0) ::_exit(2);
    int fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    ::_exit(fd >= 0 && send_byte(theirs.get(), 'n', fd) == 0 ? 0 : 3);
  }
  theirs.reset();
  int fd = -1;
  char byte = 0;
  bool got = receive_byte(mine.get(), &byte, &fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!got || fd < 0)
    return make_error(ErrorCode::generic, "create the container's network namespace (rootless): helper exit " +
                                              std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  return UniqueFd(fd);
}

}  // namespace

Result<UniqueFd> make_network_namespace() {
  if (!in_initial_user_namespace()) return make_in_child();
  UniqueFd home = TRY(open_fd("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (::unshare(CLONE_NEWNET) < 0) return sys_error("create the container's network namespace");
  Result<UniqueFd> made = [&]() -> Result<UniqueFd> {
    TRY(loopback_up());
    return open_fd("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  }();
  // Back home whatever happened; staying in the new namespace would cut kiln off (a build's next FROM or ADD).
  if (::setns(home.get(), CLONE_NEWNET) < 0) return sys_error("return to kiln's network namespace");
  return made;
}

}  // namespace kiln::runtime
