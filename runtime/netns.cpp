// Network namespaces: unshare, lo up, keep an fd, setns back.
#include "runtime/netns.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

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
/// host's user namespace), so a thread of its own makes the new one and ends there (a network namespace is a
/// thread's, not the process's).
Result<UniqueFd> make_on_own_thread() {
  int fd = -1, err = 0;
  std::thread maker([&] {
    if (::unshare(CLONE_NEWNET) < 0) {
      err = errno;
      return;
    }
    if ((err = raise_loopback()) != 0) return;
    fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) err = errno;
  });
  maker.join();
  if (fd < 0) return sys_error("create the container's network namespace", err);
  return UniqueFd(fd);
}

}  // namespace

Result<UniqueFd> make_network_namespace() {
  if (!in_initial_user_namespace()) return make_on_own_thread();
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
