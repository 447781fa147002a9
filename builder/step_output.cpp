// Step output.
#include "builder/step_output.h"

#include "builder/build_display.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <deque>

#include "common/fd.h"

namespace kiln::builder {

StepOutput::StepOutput(std::ostream& out, std::string prefix, bool quiet, std::string tail_file, int display_fd,
                       size_t step)
    : m_tail_file(std::move(tail_file)) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) {
    m_done = true;
    return;
  }
  out.flush();
  m_saved_out = ::fcntl(1, F_DUPFD_CLOEXEC, 3);
  m_saved_err = ::fcntl(2, F_DUPFD_CLOEXEC, 3);
  m_reader = ::fork();
  if (m_reader == 0) {
    ::close(p[1]);
    std::deque<std::string> last;
    std::string partial;
    char buf[8192];
    auto emit = [&](const std::string& line) {
      last.push_back(line);
      if (last.size() > 10) last.pop_front();
      if (display_fd >= 0) {
        std::string e = BuildDisplay::output_event(step, line);
        (void)!::write(display_fd, e.data(), e.size());
      } else if (!quiet) {
        std::string text = prefix + line + "\n";
        (void)!::write(m_saved_err, text.data(), text.size());
      }
    };
    for (;;) {
      ssize_t n = ::read(p[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      partial.append(buf, static_cast<size_t>(n));
      size_t nl;
      while ((nl = partial.find('\n')) != std::string::npos) {
        emit(partial.substr(0, nl));
        partial.erase(0, nl + 1);
      }
    }
    if (!partial.empty()) emit(partial);
    std::string all;
    for (const auto& l : last) all += (all.empty() ? "" : "\n") + l;
    int fd = ::open(m_tail_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      (void)!::write(fd, all.data(), all.size());
      ::close(fd);
    }
    ::_exit(0);
  }
  ::close(p[0]);
  ::dup2(p[1], 1);
  ::dup2(p[1], 2);
  ::close(p[1]);
}

StepOutput::~StepOutput() { finish(); }

void StepOutput::finish() {
  if (m_done) return;
  m_done = true;
  ::dup2(m_saved_out, 1);  // drops this process's write ends: the reader sees EOF once the container is gone
  ::dup2(m_saved_err, 2);
  ::close(m_saved_out);
  ::close(m_saved_err);
  if (m_reader > 0) {
    int st;
    while (::waitpid(m_reader, &st, 0) < 0 && errno == EINTR) {
    }
  }
}

std::string StepOutput::tail() const {
  auto t = read_file(m_tail_file);
  return t ? *t : "";
}

}  // namespace kiln::builder
