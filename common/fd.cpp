// Owned file descriptors and small file I/O helpers.
#include "common/fd.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace kiln {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) reset(o.release());
  return *this;
}

UniqueFd::~UniqueFd() { reset(); }

int UniqueFd::release() {
  int fd = m_fd;
  m_fd = -1;
  return fd;
}

void UniqueFd::reset(int fd) {
  if (m_fd >= 0) ::close(m_fd);
  m_fd = fd;
}

Result<UniqueFd> open_fd(const std::string& path, int flags, int mode) {
  return openat_fd(AT_FDCWD, path, flags, mode);
}

Result<UniqueFd> openat_fd(int dirfd, const std::string& path, int flags, int mode) {
  int fd;
  do {
    fd = ::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return sys_error("open " + path);
  return UniqueFd(fd);
}

bool read_exact(int fd, void* data, size_t len) {
  char* p = static_cast<char*>(data);
  while (len > 0) {
    ssize_t n = ::read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

Status write_all(int fd, const void* data, size_t len) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = ::write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write");
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
  return {};
}

Result<std::string> read_fd(int fd, size_t max_size) {
  // Straight into the string, sized from fstat when the size is known (a regular file), else grown as it
  // fills (pipes; /proc and cgroup files report 0 or 4096). No 64 KiB stack buffer: each new stack page is a
  // page fault, dear on a VM, and a `kiln run` reads a handful of small files on three stacks.
  struct stat st;
  size_t want = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0
                    ? std::min(static_cast<size_t>(st.st_size), max_size - 1) + 1  // +1: EOF seen in one read
                    : 4096;
  std::string out;
  size_t used = 0;
  for (;;) {
    if (used == out.size()) out.resize(used + std::max(want, out.size()));
    ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read");
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
    if (used > max_size)
      return make_error(ErrorCode::invalid_argument, "larger than " + std::to_string(max_size) + " bytes");
  }
  out.resize(used);
  return out;
}

Result<std::string> read_file(const std::string& path, size_t max_size) {
  UniqueFd fd = TRY(open_fd(path, O_RDONLY));
  return TRY_CTX(read_fd(fd.get(), max_size), path);
}

Status make_dirs(const std::string& path, int mode) {
  if (path.empty()) return {};
  // Optimistic: one mkdir when the parent exists (the common case); walk up only on ENOENT.
  if (::mkdir(path.c_str(), static_cast<mode_t>(mode)) == 0) return {};
  if (errno == ENOENT) {
    std::string parent = path;
    while (parent.size() > 1 && parent.back() == '/') parent.pop_back();
    auto slash = parent.rfind('/');
    if (slash != std::string::npos && slash > 0) TRY(make_dirs(parent.substr(0, slash), mode));
    if (::mkdir(path.c_str(), static_cast<mode_t>(mode)) == 0) return {};
  }
  if (errno != EEXIST) return sys_error("mkdir " + path);
  struct stat st;
  if (::stat(path.c_str(), &st) < 0) return sys_error("stat " + path);
  if (!S_ISDIR(st.st_mode)) return make_error(ErrorCode::conflict, path + " exists and is not a directory");
  return {};
}

Status remove_tree_at(int dirfd, const std::string& name) {
  struct stat st;
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return {};
    return sys_error("stat " + name);
  }
  if (S_ISDIR(st.st_mode)) {
    int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return sys_error("open " + name);
    DIR* d = ::fdopendir(fd);
    if (!d) {
      ::close(fd);
      return sys_error("opendir " + name);
    }
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(std::move(n));
    }
    Status st2;
    for (const auto& n : names) {
      st2 = remove_tree_at(::dirfd(d), n);
      if (!st2) break;
    }
    ::closedir(d);
    if (!st2) return st2.error().context(name);
    if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) return sys_error("rmdir " + name);
    return {};
  }
  if (::unlinkat(dirfd, name.c_str(), 0) < 0 && errno != ENOENT) return sys_error("unlink " + name);
  return {};
}

Status remove_tree(const std::string& path) { return remove_tree_at(AT_FDCWD, path); }

Status fsync_dir(const std::string& path) {
  UniqueFd fd = TRY(open_fd(path, O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) < 0) return sys_error("fsync " + path);
  return {};
}

Result<std::vector<std::string>> list_dir(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    return sys_error("open directory " + path);
  }
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

int openat2_raw(int dirfd, const char* path, uint64_t flags, uint64_t resolve) {
  struct open_how how = {};
  how.flags = flags | O_CLOEXEC;
  how.resolve = resolve;
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

std::string proc_fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

bool path_exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

int send_byte(int sock, char byte, int fd) {
  struct iovec iov = {&byte, 1};
  alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (fd >= 0) {
    msg.msg_control = ctl;
    msg.msg_controllen = sizeof ctl;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  ssize_t n;
  do {
    n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n == 1 ? 0 : errno;
}

bool receive_byte(int sock, char* byte, int* fd) {
  *fd = -1;
  struct iovec iov = {byte, 1};
  alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n != 1) return false;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) std::memcpy(fd, CMSG_DATA(c), sizeof(int));
  return true;
}

}  // namespace kiln
