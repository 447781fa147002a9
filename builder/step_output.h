// A RUN step's output: stdout/stderr of the container go through a pipe, each line printed with the step's
// prefix, the last lines kept for the error message if the step fails.
#pragma once

#include <sys/types.h>

#include <ostream>
#include <string>

namespace kiln::builder {

/// While alive, fds 1 and 2 of this process point into a pipe read by a small reader *process* (not a
/// thread: the container is started with a raw clone(), which must not happen while another thread could
/// hold the allocator's lock). The reader prefixes each line and keeps the last ones in tail_file.
class StepOutput {
 public:
  /// display_fd >= 0: each line goes to the live display as the output of step (build_display.h) instead.
  StepOutput(std::ostream& out, std::string prefix, bool quiet, std::string tail_file, int display_fd = -1,
             size_t step = 0);
  ~StepOutput();
  /// Restore fds 1 and 2 and wait for the reader; safe to call twice.
  void finish();
  /// The last lines seen (up to 10), joined with newlines (after finish()).
  std::string tail() const;

 private:
  std::string m_tail_file;
  int m_saved_out = -1, m_saved_err = -1;
  pid_t m_reader = -1;
  bool m_done = false;
};

}  // namespace kiln::builder
