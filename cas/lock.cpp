// Advisory file locks.
#include "cas/lock.h"

#include <fcntl.h>
#include <sys/file.h>

namespace kiln::cas {

Result<FileLock> FileLock::take(const std::string& path, Mode mode, bool wait) {
  UniqueFd fd = TRY(open_fd(path, O_RDWR | O_CREAT, 0600));
  int op = (mode == Mode::shared ? LOCK_SH : LOCK_EX) | (wait ? 0 : LOCK_NB);
  while (::flock(fd.get(), op) < 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return make_error(ErrorCode::conflict, path + " is locked by another kiln process");
    return sys_error("lock " + path);
  }
  return FileLock(std::move(fd));
}

Result<FileLock> FileLock::acquire(const std::string& path, Mode mode) { return take(path, mode, true); }
Result<FileLock> FileLock::try_acquire(const std::string& path, Mode mode) { return take(path, mode, false); }

}  // namespace kiln::cas
