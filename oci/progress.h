// Transfer progress: on a terminal, one line per blob redrawn in place (bytes, rate, ETA), as docker and
// podman show them; otherwise a plain line when each blob is done; nothing with -q. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

namespace kiln::oci {

class Progress {
 public:
  enum class Mode { quiet, lines, live };
  /// Bars redrawn in place when fd is a terminal, a line per finished blob otherwise.
  static Mode mode_for(int fd);
  Progress(std::ostream& out, Mode mode) : m_out(out), m_mode(mode) {}
  ~Progress();
  /// A new line for a blob of total bytes (0: unknown); returns its handle.
  size_t add(const std::string& label, uint64_t total);
  /// Bytes moved for a blob since the last call.
  void advance(size_t id, uint64_t bytes);
  /// The blob is done (or skipped): its final status text.
  void finish(size_t id, const std::string& status);

  /// "12.3MB/61.0MB 45.6MB/s ETA 1s", or without the total/ETA when total is 0 (exposed for tests).
  static std::string bar_text(uint64_t done, uint64_t total, double seconds);

 private:
  struct Item {
    std::string label, status;
    uint64_t total = 0, done = 0;
    std::chrono::steady_clock::time_point start;
    bool finished = false;
  };
  void draw_locked(bool force);
  std::ostream& m_out;
  Mode m_mode;
  std::mutex m_mu;
  std::vector<Item> m_items;
  size_t m_drawn = 0;  ///< lines drawn last time (live mode)
  std::chrono::steady_clock::time_point m_last_draw{};
};

}  // namespace kiln::oci
