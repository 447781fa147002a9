// Detached containers' logs: a pipe copied into size-capped, rotated files.
#include "runtime/log_writer.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "common/fd.h"
#include "common/number.h"
#include "runtime/options.h"

namespace kiln::runtime {

Result<LogLimits> parse_log_opts(const std::vector<std::string>& opts) {
  LogLimits l;
  for (const auto& o : opts) {
    auto eq = o.find('=');
    std::string k = o.substr(0, eq), v = eq == std::string::npos ? "" : o.substr(eq + 1);
    if (k == "max-size") {
      auto n = parse_bytes(v);
      if (!n || *n < 1024)
        return make_error(ErrorCode::invalid_argument, "invalid --log-opt " + o + ": use a size of at least 1k, e.g. 10m");
      l.max_size = *n;
    } else if (k == "max-file") {
      auto n = parse_uint(v, 100);
      if (!n || *n < 1)
        return make_error(ErrorCode::invalid_argument, "invalid --log-opt " + o + ": use a count from 1 to 100");
      l.max_files = static_cast<int>(*n);
    } else {
      return make_error(ErrorCode::invalid_argument, "unknown --log-opt " + o + " (kiln knows max-size and max-file)");
    }
  }
  return l;
}

std::vector<std::string> log_files(const std::string& path, int max_files) {
  std::vector<std::string> out;
  for (int i = max_files; i >= 1; --i)
    if (path_exists(path + "." + std::to_string(i))) out.push_back(path + "." + std::to_string(i));
  out.push_back(path);
  return out;
}

void remove_log(const std::string& path) {
  ::unlink(path.c_str());
  ::unlink((path + ".new").c_str());
  for (int i = 1; ::unlink((path + "." + std::to_string(i)).c_str()) == 0; ++i) {
  }
}

Status copy_to_log(int from_fd, const std::string& path, const LogLimits& limits) {
  auto open_log = [&](int flags) { return open_fd(path, O_WRONLY | O_CREAT | O_APPEND | flags, 0600); };
  UniqueFd log = TRY(open_log(0));
  struct stat st;
  int64_t size = ::fstat(log.get(), &st) == 0 ? st.st_size : 0;
  // The current file is swapped for a fresh one in one step (RENAME_EXCHANGE), so a `kiln logs` always finds
  // it; the old one then becomes <log>.1. With max-file=1 the one file starts over.
  auto rotate = [&]() -> Status {
    size = 0;
    if (limits.max_files == 1) {
      log = TRY(open_log(O_TRUNC));
      return {};
    }
    for (int i = limits.max_files - 1; i >= 2; --i) {
      std::string from = path + "." + std::to_string(i - 1);
      if (::rename(from.c_str(), (path + "." + std::to_string(i)).c_str()) < 0 && errno != ENOENT)
        return sys_error("rotate " + from);
    }
    std::string fresh = path + ".new";
    log = TRY(open_fd(fresh, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600));
    if (::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) < 0 ||
        ::rename(fresh.c_str(), (path + ".1").c_str()) < 0)
      return sys_error("rotate " + path);
    return {};
  };
  std::vector<char> buf(1 << 16);
  for (;;) {
    ssize_t n = ::read(from_fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read the container's output");
    if (n == 0) return {};
    const char* p = buf.data();
    while (n > 0) {
      if (size >= limits.max_size) TRY(rotate());
      size_t room = static_cast<size_t>(std::min<int64_t>(n, limits.max_size - size));
      TRY(write_all(log.get(), std::string_view(p, room)));
      size += static_cast<int64_t>(room);
      p += room;
      n -= static_cast<ssize_t>(room);
    }
  }
}

Result<int> start_log_writer(int from_fd, const std::string& path, const LogLimits& limits) {
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork the log writer");
  if (pid == 0) {
    ::prctl(PR_SET_NAME, "kiln-log");
    // Only the pipe's read end, as fd 3: every other fd goes (the pipe's write end above all, or EOF would
    // never come), and /dev/null stands at 0-2.
    if (::dup2(from_fd, 3) < 0) ::_exit(1);
    int null = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; ++fd) ::dup2(null, fd);
    if (::syscall(SYS_close_range, 4u, ~0u, 0u) < 0)
      for (int fd = 4; fd < 65536; ++fd) ::close(fd);
    auto st = copy_to_log(3, path, limits);
    ::_exit(st ? 0 : 1);
  }
  return static_cast<int>(pid);
}

}  // namespace kiln::runtime
