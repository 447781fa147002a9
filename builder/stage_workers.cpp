#include "builder/stage_workers.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <optional>

#include "common/fd.h"

namespace kiln::builder {

namespace {

struct Worker {
  pid_t pid;
  UniqueFd report;  ///< the read end of the worker's report pipe
  size_t job;
};

/// "ok N", or "error CODE ERRNO MESSAGE": one write, well under a pipe's buffer, made just before _exit.
void send_report(int fd, const Result<size_t>& r) {
  std::string msg = r ? "ok " + std::to_string(*r)
                      : "error " + std::to_string(static_cast<int>(r.error().code)) + " " +
                            std::to_string(r.error().sys_errno) + " " + r.error().message;
  if (msg.size() > 32768) msg.resize(32768);
  (void)write_all(fd, msg);
}

/// A number at the start of text, the text after it (and one space) left in text.
long take_number(std::string& text) {
  long n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc()) return 0;
  size_t used = static_cast<size_t>(end - text.data());
  text.erase(0, used < text.size() ? used + 1 : used);
  return n;
}

/// What a worker's report and wait status say.
Result<size_t> read_report(const std::string& report, int status, int cancelled_by) {
  if (report.rfind("ok ", 0) == 0) {
    std::string rest = report.substr(3);
    return static_cast<size_t>(take_number(rest));
  }
  if (report.rfind("error ", 0) == 0) {
    std::string rest = report.substr(6);
    Error e;
    e.code = static_cast<ErrorCode>(take_number(rest));
    e.sys_errno = static_cast<int>(take_number(rest));
    e.message = rest;
    return e;
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    return make_error(cancelled_by || sig == SIGTERM || sig == SIGINT ? ErrorCode::cancelled : ErrorCode::generic,
                      std::string("a build worker ended by SIG") + (sigabbrev_np(sig) ? sigabbrev_np(sig) : "?"));
  }
  return make_error(ErrorCode::generic,
                    "a build worker exited with status " + std::to_string(WEXITSTATUS(status)) + " without a result");
}

/// What is in a non-blocking pipe now.
std::string drain(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return out;
  }
}

}  // namespace

int default_build_jobs() {
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof set, &set) < 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

std::vector<std::optional<Result<size_t>>> run_in_workers(const std::vector<WorkerJob>& jobs, int max_at_once,
                                                          int* cancelled_by) {
  *cancelled_by = 0;
  std::vector<std::optional<Result<size_t>>> results(jobs.size());
  sigset_t watched, old;
  sigemptyset(&watched);
  for (int s : {SIGCHLD, SIGINT, SIGTERM, SIGHUP}) sigaddset(&watched, s);
  ::pthread_sigmask(SIG_BLOCK, &watched, &old);
  UniqueFd sigfd(::signalfd(-1, &watched, SFD_CLOEXEC));
  std::vector<Worker> running;
  bool stopping = false;  // a worker failed, or a signal came: start no more, end the others

  auto start = [&](size_t j) -> Status {
    int p[2];
    if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) return sys_error("pipe for a build worker");
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) {
      int err = errno;
      ::close(p[0]);
      ::close(p[1]);
      return sys_error("fork a build worker", err);
    }
    if (pid == 0) {
      ::close(p[0]);
      ::close(sigfd.get());
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
      send_report(p[1], jobs[j]());
      ::_exit(0);
    }
    ::close(p[1]);
    running.push_back(Worker{pid, UniqueFd(p[0]), j});
    return {};
  };
  auto stop_all = [&](int sig) {
    stopping = true;
    for (const auto& w : running) ::kill(w.pid, sig);
  };

  size_t next = 0;
  if (!sigfd.valid()) stopping = true;  // no way to wait safely: every job is left to the caller
  for (;;) {
    while (!stopping && next < jobs.size() && running.size() < static_cast<size_t>(std::max(1, max_at_once))) {
      if (auto st = start(next); !st) break;  // left to the caller, as the ones after it
      ++next;
    }
    if (running.empty()) break;
    bool reaped = false;
    for (size_t k = 0; k < running.size();) {
      int status = 0;
      pid_t r = ::waitpid(running[k].pid, &status, WNOHANG);
      if (r == 0 || (r < 0 && errno == EINTR)) {
        ++k;
        continue;
      }
      Result<size_t> res = r < 0 ? Result<size_t>(sys_error("wait for a build worker"))
                                 : read_report(drain(running[k].report.get()), status, *cancelled_by);
      if (!res && !stopping) stop_all(SIGTERM);
      results[running[k].job] = std::move(res);
      running.erase(running.begin() + static_cast<long>(k));
      reaped = true;
    }
    if (reaped) continue;
    signalfd_siginfo si;
    ssize_t n = ::read(sigfd.get(), &si, sizeof si);
    if (n != static_cast<ssize_t>(sizeof si)) continue;
    if (si.ssi_signo != SIGCHLD) {
      if (!*cancelled_by) *cancelled_by = static_cast<int>(si.ssi_signo);
      stop_all(static_cast<int>(si.ssi_signo));
    }
  }
  sigfd.reset();
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return results;
}

}  // namespace kiln::builder
