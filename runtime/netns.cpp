// Network namespaces: unshare, lo up, keep an fd, setns back.
#include "runtime/netns.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>
#include <optional>
#include <string>
#include <thread>

#include "common/identity.h"

namespace kiln::runtime {

Status loopback_up() {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return sys_error("socket");
  UniqueFd sock(s);
  struct ifreq ifr = {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) < 0) return sys_error("get lo flags");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (::ioctl(s, SIOCSIFFLAGS, &ifr) < 0) return sys_error("bring lo up");
  return {};
}

namespace {

/// The calling thread moves into a new network namespace with lo up: its fd.
Result<UniqueFd> unshare_network() {
  if (::unshare(CLONE_NEWNET) < 0) return sys_error("create the container's network namespace");
  TRY(loopback_up());
  return open_fd("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
}

}  // namespace

Result<UniqueFd> make_network_namespace() {
  // Rootless: kiln may leave its network namespace but not come back (the host's belongs to the host's user
  // namespace), so a thread of its own makes the new one and ends there (a network namespace is a thread's).
  if (!in_initial_user_namespace()) {
    std::optional<Result<UniqueFd>> made;
    std::thread([&made] { made = unshare_network(); }).join();
    return std::move(*made);
  }
  UniqueFd home = TRY(open_fd("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  Result<UniqueFd> made = unshare_network();
  // Back home whatever happened; staying in the new namespace would cut kiln off (a build's next FROM or ADD).
  if (::setns(home.get(), CLONE_NEWNET) < 0) return sys_error("return to kiln's network namespace");
  return made;
}

}  // namespace kiln::runtime
