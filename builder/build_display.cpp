// The live build display: kiln's side writes events; the display process keeps the state and redraws the
// running steps ten times a second while one runs, and at once on each event.
#include "builder/build_display.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <vector>

#include "common/fd.h"

namespace kiln::builder {

namespace {

using Clock = std::chrono::steady_clock;

/// Text fit for one event field: no tab, newline or other control character (an escape sequence in a RUN's
/// output must not move the display's cursor).
std::string clean(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\t')
      out += ' ';
    else if (u >= 0x20 && u != 0x7f)
      out += c;
  }
  return out;
}

/// One event: its kind and fields, tab-separated, cut to fit in an atomic pipe write.
std::string event(char kind, std::initializer_list<std::string> fields) {
  std::string e(1, kind);
  for (const auto& f : fields) e += "\t" + clean(f);
  if (e.size() > PIPE_BUF - 1) e.resize(PIPE_BUF - 1);
  return e + "\n";
}

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}

/// The display process: reads events from in, draws on term until in ends.
class Drawer {
 public:
  Drawer(int in, int term) : m_in(in), m_term(term) {}

  void run() {
    std::string partial;
    char buf[8192];
    bool open = true;
    while (open) {
      struct pollfd p = {m_in, POLLIN, 0};
      int n = ::poll(&p, 1, m_running.empty() ? -1 : 100);  // ticks only while a step runs
      if (n > 0) {
        ssize_t r = ::read(m_in, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
          open = false;
        } else {
          partial.append(buf, static_cast<size_t>(r));
          size_t nl;
          while ((nl = partial.find('\n')) != std::string::npos) {
            apply(partial.substr(0, nl));
            partial.erase(0, nl + 1);
          }
        }
      }
      draw();
    }
    m_running.clear();
    m_above.push_back("[+] Building " + seconds(elapsed(m_start)) + " (" + std::to_string(m_done) + "/" +
                      std::to_string(m_total) + ") " + (m_ok ? "FINISHED" : "ERROR"));
    draw(false);
  }

 private:
  struct Running {
    std::string text;
    Clock::time_point start;
    std::deque<std::string> tail;
  };

  static double elapsed(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

  void apply(const std::string& line) {
    std::vector<std::string> f;
    size_t pos = 0;
    for (;;) {
      size_t tab = line.find('\t', pos);
      f.push_back(line.substr(pos, tab == std::string::npos ? std::string::npos : tab - pos));
      if (tab == std::string::npos) break;
      pos = tab + 1;
    }
    const std::string& kind = f[0];
    size_t step = f.size() > 1 ? std::strtoul(f[1].c_str(), nullptr, 10) : 0;
    if (kind == "T" && f.size() > 1) {
      m_total = step;
    } else if (kind == "S" && f.size() > 2) {
      m_running[step] = Running{f[2], Clock::now(), {}};
    } else if (kind == "O" && f.size() > 2) {
      if (auto it = m_running.find(step); it != m_running.end()) {
        it->second.tail.push_back(f[2]);
        if (it->second.tail.size() > kTail) it->second.tail.pop_front();
      }
    } else if (kind == "D" && f.size() > 3) {
      const std::string &status = f[2], &text = f[3];
      m_running.erase(step);
      if (status != "ERROR") ++m_done;
      m_above.push_back(status == "CACHED" ? fit(" => CACHED " + text) : fit(" => " + text, status));
    } else if (kind == "L" && f.size() > 1) {
      m_above.push_back(f[1]);
    } else if (kind == "E" && f.size() > 1) {
      m_ok = f[1] == "ok";
    }
  }

  /// Cut to the terminal's width (counting UTF-8 characters), so no line wraps and the cursor moves stay right;
  /// a status after the text (a time) is kept whole, the text cut instead.
  std::string fit(const std::string& s, const std::string& status = "") const {
    size_t room = m_width - 1 > status.size() + 2 ? m_width - 1 - (status.empty() ? 0 : status.size() + 2) : 1;
    size_t cols = 0, i = 0;
    for (; i < s.size(); ++i) {
      if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) {
        if (cols >= room) break;
        ++cols;
      }
    }
    return s.substr(0, i) + (status.empty() ? "" : "  " + status);
  }

  void draw(bool live = true) {
    struct winsize ws {};
    m_width = ::ioctl(m_term, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10 ? ws.ws_col : 80;
    std::string frame;
    if (m_lines > 0)
      frame += "\r\x1b[" + std::to_string(m_lines) + "A\x1b[J";  // back over the last live region
    else
      frame += "\r\x1b[J";
    for (const auto& l : m_above) frame += fit(l) + "\n";
    m_above.clear();
    m_lines = 0;
    if (live) {
      for (const auto& [step, r] : m_running) {
        frame += fit(" => " + r.text, seconds(elapsed(r.start))) + "\n";
        ++m_lines;
        for (const auto& t : r.tail) {
          frame += fit(" => => # " + t) + "\n";
          ++m_lines;
        }
      }
      frame += fit("[+] Building " + seconds(elapsed(m_start)) + " (" + std::to_string(m_done) + "/" +
                   std::to_string(m_total) + ")") +
               "\n";
      ++m_lines;
    }
    (void)write_all(m_term, frame);
  }

  static constexpr size_t kTail = 6;
  int m_in, m_term;
  Clock::time_point m_start = Clock::now();
  std::map<size_t, Running> m_running;
  std::vector<std::string> m_above;
  size_t m_total = 0, m_done = 0, m_lines = 0, m_width = 80;
  bool m_ok = false;
};

}  // namespace

BuildDisplay::BuildDisplay(int terminal_fd) : m_buf(*this), m_stream(&m_buf) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return;
  pid_t parent = ::getpid();
  m_pid = ::fork();
  if (m_pid < 0) {
    ::close(p[0]);
    ::close(p[1]);
    return;
  }
  if (m_pid == 0) {
    // Ctrl-C is kiln's to handle: the display draws the last frame when kiln closes the pipe, whatever ended it.
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGTERM, SIG_IGN);
    ::signal(SIGHUP, SIG_IGN);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(0);
    ::close(p[1]);
    Drawer(p[0], terminal_fd).run();
    ::_exit(0);
  }
  ::close(p[0]);
  m_fd = p[1];
}

BuildDisplay::~BuildDisplay() { finish(false); }

void BuildDisplay::send(const std::string& e) {
  if (m_fd >= 0) (void)write_all(m_fd, e);
}

void BuildDisplay::total(size_t steps) { send(event('T', {std::to_string(steps)})); }
void BuildDisplay::started(size_t step, const std::string& text) { send(event('S', {std::to_string(step), text})); }
void BuildDisplay::done(size_t step, const std::string& text, const std::string& status) {
  send(event('D', {std::to_string(step), status, text}));
}
void BuildDisplay::message(const std::string& line) { send(event('L', {line})); }

std::string BuildDisplay::output_event(size_t step, const std::string& line) {
  return event('O', {std::to_string(step), line});
}

int BuildDisplay::LineBuf::overflow(int c) {
  if (c == EOF) return 0;
  if (c == '\n') {
    m_owner.message(m_line);
    m_line.clear();
  } else if (c != '\r') {
    m_line += static_cast<char>(c);
  }
  return c;
}

void BuildDisplay::finish(bool ok) {
  if (m_fd < 0) return;
  if (!m_buf.empty()) message(m_buf.take());
  send(event('E', {ok ? "ok" : "error"}));
  ::close(m_fd);
  m_fd = -1;
  int st;
  while (::waitpid(m_pid, &st, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace kiln::builder
