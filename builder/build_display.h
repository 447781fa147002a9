// The build's live display on a terminal (`--progress tty`, BuildKit's): the running steps with their elapsed
// time ticking and the last lines of a RUN's output under it, finished steps printed once above (cached ones
// as one CACHED line), and a total at the end.
//
// It is drawn by a small display *process*, fed events through a pipe: kiln's thread only writes to the pipe,
// never waits on a timer, and no thread of kiln's runs beside the raw clone that starts a RUN's container
// (step_output.h gives the same reason for the output reader). Every event is one write of under PIPE_BUF
// bytes, so the RUN output reader process and kiln never interleave within one.
#pragma once

#include <sys/types.h>

#include <ostream>
#include <streambuf>
#include <string>
#include <utility>

namespace kiln::builder {

class BuildDisplay {
 public:
  /// Start the display process drawing on terminal_fd (kept by it; kiln's copy stays kiln's). A display that
  /// cannot start (no pipe, no fork) is inactive: every call below then does nothing and active() is false.
  explicit BuildDisplay(int terminal_fd);
  ~BuildDisplay();  ///< finish(false) unless finished
  BuildDisplay(const BuildDisplay&) = delete;
  BuildDisplay& operator=(const BuildDisplay&) = delete;

  bool active() const { return m_fd >= 0; }
  void total(size_t steps);
  /// A step that has work to do began (text: "[3/7] RUN make").
  void started(size_t step, const std::string& text);
  /// A step ended: status "0.52s", "CACHED" or "ERROR". A step never started is printed at once.
  void done(size_t step, const std::string& text, const std::string& status);
  /// A line that is not a step (a warning, a pull's progress): printed above the running steps.
  void message(const std::string& line);
  /// A stream whose every line is a message(): what the build writes to its output while the display is up.
  std::ostream& stream() { return m_stream; }
  /// Where a RUN's output reader sends its lines for step (an fd kiln keeps open; see output_event).
  int event_fd() const { return m_fd; }
  /// Draw the last frame with the total, FINISHED or ERROR, and wait for the display process to end.
  void finish(bool ok);

  /// The event a RUN's output line is, as output readers write it to event_fd().
  static std::string output_event(size_t step, const std::string& line);

 private:
  class LineBuf : public std::streambuf {
   public:
    explicit LineBuf(BuildDisplay& owner) : m_owner(owner) {}
    bool empty() const { return m_line.empty(); }
    std::string take() { return std::exchange(m_line, {}); }

   protected:
    int overflow(int c) override;

   private:
    BuildDisplay& m_owner;
    std::string m_line;
  };

  void send(const std::string& event);
  LineBuf m_buf;
  std::ostream m_stream;
  int m_fd = -1;
  pid_t m_pid = -1;
};

}  // namespace kiln::builder
