// Tests for runtime/netns: a fresh network namespace with lo up, and the caller back where it was.
#include "runtime/netns.h"

#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace kiln::runtime {
namespace {

ino_t ns_inode(int fd) {
  struct stat st {};
  fstat(fd, &st);
  return st.st_ino;
}

ino_t own_ns_inode() {
  struct stat st {};
  stat("/proc/thread-self/ns/net", &st);
  return st.st_ino;
}

TEST(NetNs, FreshNamespaceWithLoopbackUpAndCallerUntouched) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  ino_t home = own_ns_inode();
  auto made = make_network_namespace();
  ASSERT_TRUE(made.ok()) << made.error().what();
  EXPECT_EQ(own_ns_inode(), home) << "the caller stays in its own network namespace";
  EXPECT_NE(ns_inode(made->get()), home);
  auto second = make_network_namespace();
  ASSERT_TRUE(second.ok());
  EXPECT_NE(ns_inode(second->get()), ns_inode(made->get())) << "each call makes a namespace of its own";
  // Inside: lo is up and is the only interface.
  pid_t pid = fork();
  if (pid == 0) {
    if (setns(made->get(), CLONE_NEWNET) < 0) _exit(2);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr {};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 || !(ifr.ifr_flags & IFF_UP)) _exit(3);
    struct if_nameindex* all = if_nameindex();
    int n = 0;
    for (auto* i = all; i && i->if_index; ++i) ++n;
    _exit(n == 1 ? 0 : 4);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
}

}  // namespace
}  // namespace kiln::runtime
