// The log of a detached container (kiln run -d), capped and rotated as docker's --log-opt max-size/max-file:
// a process of its own copies the container's output from a pipe, so a container that prints without end
// fills at most max_size * max_files of the run directory (a tmpfs: memory).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace kiln::runtime {

struct LogLimits {
  int64_t max_size = 10 << 20;  ///< bytes a file may hold
  int max_files = 3;            ///< the current file and max_files - 1 rotated ones (<log>.1 newest)
};

/// --log-opt values ("max-size=10m", "max-file=3"); unknown keys and bad values are errors.
Result<LogLimits> parse_log_opts(const std::vector<std::string>& opts);

/// The files of a log, oldest first: <path>.N … <path>.1, then <path> (those that exist).
std::vector<std::string> log_files(const std::string& path, int max_files = 9);

/// Remove a log with its rotated files (and a fresh one a killed rotation left).
void remove_log(const std::string& path);

/// Fork a process that reads from_fd until EOF and appends to path under the limits, then exits. The caller
/// keeps nothing of it but its pid (reaped by whoever waits for children, or by init when kiln exits first).
Result<int> start_log_writer(int from_fd, const std::string& path, const LogLimits& limits);

/// The copying itself (what start_log_writer's process runs): until EOF on from_fd.
Status copy_to_log(int from_fd, const std::string& path, const LogLimits& limits);

}  // namespace kiln::runtime
