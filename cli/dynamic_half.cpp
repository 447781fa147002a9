// The static kiln's dynamic half. glibc cannot dlopen from a static program once the loaded library starts a
// thread (libcurl's resolver, zstd's workers crash in the second libc it brings), so the commands that load
// them run in kiln-dynamic, a dynamically linked kiln carried in this binary: handed over whole before they
// begin, or, for the pull of a `kiln run`, as a child process.
#include "cli/dynamic_half.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/fd.h"
#include "common/log.h"

// The stripped kiln-dynamic, in a section of its own after kiln's read-only data: it is only read to start it.
extern "C" const char kiln_dynamic_start[], kiln_dynamic_end[];
__asm__(
    ".pushsection .kiln_dynamic,\"a\"\n"
    ".balign 4096\n"
    "kiln_dynamic_start:\n"
    ".incbin \"" KILN_DYNAMIC_HALF
    "\"\n"
    "kiln_dynamic_end:\n"
    ".popsection\n");

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U  // Linux 6.3; older kernels refuse it with EINVAL, and exec needs no flag there
#endif

extern char** environ;

namespace kiln::cli {

namespace {

size_t half_size() { return static_cast<size_t>(kiln_dynamic_end - kiln_dynamic_start); }

/// The dynamic half in a sealed memfd: nothing can change the binary while it runs (as runc guards its own,
/// CVE-2019-5736). -1 with errno set on failure.
int half_in_memfd() {
  int fd = ::memfd_create("kiln-dynamic", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL)  // before Linux 6.3, which brought MFD_EXEC
    fd = ::memfd_create("kiln-dynamic", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1;
  if (!write_all(fd, kiln_dynamic_start, half_size()) ||
      ::fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/// The fallback where memfds may not be executed (vm.memfd_noexec=2, a security policy): an unnamed file
/// (O_TMPFILE) in DIR, written, then opened again read-only through /proc so that no writable descriptor is
/// left (exec refuses a file open for writing) and no name ever appears. It goes when its last fd closes.
int half_in_tmpfile(const char* dir) {
  UniqueFd w(::open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0500));
  if (w.get() < 0) return -1;
  if (!write_all(w.get(), kiln_dynamic_start, half_size())) return -1;
  return ::open(proc_fd_path(w.get()).c_str(), O_RDONLY | O_CLOEXEC);
}

/// Where the fallback may put the half: the temp directories, then the directory kiln itself is in (a noexec
/// /tmp is common; kiln's own directory is executable by construction).
std::vector<std::string> tmpfile_dirs() {
  std::vector<std::string> dirs;
  if (const char* t = ::getenv("TMPDIR"); t && *t) dirs.emplace_back(t);
  for (const char* d : {"/var/tmp", "/tmp", "/dev/shm"}) dirs.emplace_back(d);
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string exe(self, static_cast<size_t>(n));
    dirs.push_back(exe.substr(0, exe.find_last_of('/') + 1));
  }
  return dirs;
}

/// Calls TRY_START with an executable fd of the dynamic half, first the memfd, then each fallback file, until
/// it returns 0 (started); returns the first failure's errno (the memfd's: that is the one to explain).
template <typename F>
int start_half(F try_start) {
  int first = 0;
  auto attempt = [&](int fd) {
    int e = fd < 0 ? errno : try_start(fd);
    if (fd >= 0) ::close(fd);
    if (e != 0)
      log::debug(std::string("the dynamic half did not start from ") + (first == 0 ? "a memfd" : "a temporary file") +
                 " (" + std::strerror(e) + "); trying the next place");
    if (e != 0 && first == 0) first = e;
    return e == 0;
  };
  if (attempt(half_in_memfd())) return 0;
  for (const auto& dir : tmpfile_dirs())
    if (attempt(half_in_tmpfile(dir.c_str()))) return 0;
  return first;
}

std::string start_failure(int e) {
  return std::string("start kiln's dynamic half: ") + std::strerror(e) +
         " (no memfd or temporary file could be executed here; build kiln with -DKILN_STATIC_DEPS=OFF)";
}

}  // namespace

bool needs_dynamic_half(std::string_view command) {
  // Registries (libcurl); build (FROM pulls, ADD <url>, zstd layers) and import (zstd layers).
  for (std::string_view c : {"pull", "push", "login", "logout", "build", "import"})
    if (c == command) return true;
  return false;
}

void exec_dynamic_half(char** argv) {
  int e = start_half([&](int fd) {
    ::fexecve(fd, argv, environ);
    return errno;
  });
  std::fprintf(stderr, "kiln: %s\n", start_failure(e).c_str());
}

Status pull_in_dynamic_half(const std::string& root, const std::string& image) {
  int err[2];
  if (::pipe2(err, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd err_r(err[0]), err_w(err[1]);
  // Spawned, not forked: other threads of this kiln are at work (runtime/start_ahead.h).
  posix_spawn_file_actions_t fa;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawn_file_actions_adddup2(&fa, 2, 1);  // the pull's output is not the container's
  ::posix_spawn_file_actions_adddup2(&fa, err_w.get(), 2);
  std::vector<std::string> args{"kiln", "--root", root, "pull", "--unpack", image};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text;  // the progress mode this kiln's stderr calls for, not the pipe's
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "KILN_PROGRESS=", 14) != 0) env_text.emplace_back(*e);
  env_text.push_back(std::string("KILN_PROGRESS=") + (::isatty(2) ? "live" : "lines"));
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid;
  int rc = start_half(
      [&](int fd) { return ::posix_spawn(&pid, proc_fd_path(fd).c_str(), &fa, nullptr, argv.data(), envp.data()); });
  ::posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return make_error(ErrorCode::io, start_failure(rc));
  err_w.reset();
  // Progress passes through as it comes; a line of kiln's own ("kiln: …", its error) is kept back.
  std::string line, error;
  char buf[4096];
  ssize_t n;
  auto flush = [&] {
    if (line.rfind("kiln: ", 0) == 0)
      error = line.substr(6, line.find_last_not_of("\r\n") - 5);
    else
      (void)write_all(2, line);
    line.clear();
  };
  while ((n = ::read(err_r.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    for (ssize_t i = 0; i < n; ++i) {
      line += buf[i];
      if (buf[i] == '\n' || buf[i] == '\r') flush();
    }
  }
  if (!line.empty()) flush();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  return make_error(ErrorCode::generic, error.empty() ? "kiln pull " + image + " failed" : error);
}

}  // namespace kiln::cli
