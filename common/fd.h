// Owned file descriptors and the small file I/O helpers every library uses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace kiln {

/// A file descriptor closed when it goes out of scope.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : m_fd(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : m_fd(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
  int get() const { return m_fd; }
  bool valid() const { return m_fd >= 0; }
  int release();
  void reset(int fd = -1);

 private:
  int m_fd = -1;
};

/// open(2) returning an owned fd or an io error naming the path.
Result<UniqueFd> open_fd(const std::string& path, int flags, int mode = 0644);
Result<UniqueFd> openat_fd(int dirfd, const std::string& path, int flags, int mode = 0644);
/// Write every byte, retrying on EINTR and short writes.
Status write_all(int fd, const void* data, size_t len);
inline Status write_all(int fd, std::string_view s) { return write_all(fd, s.data(), s.size()); }
/// Read exactly len bytes (retrying short reads and EINTR); false on EOF before that or an error. Builds no
/// Error, so a child about to exec can use it cheaply.
bool read_exact(int fd, void* data, size_t len);
/// The whole content of a file (refuses files over max_size bytes).
Result<std::string> read_file(const std::string& path, size_t max_size = 64u << 20);
Result<std::string> read_fd(int fd, size_t max_size = 64u << 20);
/// mkdir -p; existing directories are fine.
Status make_dirs(const std::string& path, int mode = 0755);
/// rm -rf that never follows symlinks; a missing path is success.
Status remove_tree(const std::string& path);
/// Remove the contents of an open directory, never following symlinks.
Status remove_tree_at(int dirfd, const std::string& name);
/// fsync a directory so a rename inside it is durable.
Status fsync_dir(const std::string& path);
bool path_exists(const std::string& path);
/// The entry names of a directory (without . and ..), sorted; a missing directory is an empty list.
Result<std::vector<std::string>> list_dir(const std::string& path);
/// Send one byte over a unix socket with fd attached (SCM_RIGHTS), or the byte alone when fd is -1.
/// Returns errno or 0; fd stays open.
int send_byte(int sock, char byte, int fd = -1);
/// Receive what send_byte sent: true with *fd the received descriptor (CLOEXEC) or -1 when none came;
/// false on EOF or error (the sender is gone).
bool receive_byte(int sock, char* byte, int* fd);
/// openat2(2): open path relative to dirfd with RESOLVE_* flags (O_CLOEXEC added). Returns the fd or -1/errno.
int openat2_raw(int dirfd, const char* path, uint64_t flags, uint64_t resolve);
/// "/proc/self/fd/N": the path that reaches what fd refers to (mount on it, read back where it resolved).
std::string proc_fd_path(int fd);

}  // namespace kiln
