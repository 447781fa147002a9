// Advisory file locks (flock) guarding the store's mutable files.
#pragma once

#include <string>

#include "common/fd.h"

namespace kiln::cas {

/// An flock held until destruction. Shared locks coexist; an exclusive lock waits for all others.
class FileLock {
 public:
  enum class Mode { shared, exclusive };
  /// Block until the lock on path (created if missing) is held.
  static Result<FileLock> acquire(const std::string& path, Mode mode);
  /// Take the lock only if free; returns a conflict error otherwise.
  static Result<FileLock> try_acquire(const std::string& path, Mode mode);
  bool held() const { return m_fd.valid(); }

 private:
  explicit FileLock(UniqueFd fd) : m_fd(std::move(fd)) {}
  static Result<FileLock> take(const std::string& path, Mode mode, bool wait);
  UniqueFd m_fd;
};

}  // namespace kiln::cas
