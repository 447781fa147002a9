// Progress display.
#include "oci/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string_view>

namespace kiln::oci {

namespace {

std::string size_text(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) {
    bytes /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.1f%s", bytes, units[u]);
  return buf;
}

}  // namespace

Progress::Mode Progress::mode_for(int fd) {
  // The static kiln's pull through its dynamic half (cli/dynamic_half.cpp) writes to a pipe that kiln passes on
  // to its own stderr, and says here which mode that calls for.
  if (const char* m = ::getenv("KILN_PROGRESS"); m && fd == 2) {
    if (std::string_view(m) == "live") return Mode::live;
    if (std::string_view(m) == "lines") return Mode::lines;
  }
  return ::isatty(fd) ? Mode::live : Mode::lines;
}

std::string Progress::bar_text(uint64_t done, uint64_t total, double seconds) {
  std::string s = size_text(static_cast<double>(done));
  if (total) s += "/" + size_text(static_cast<double>(total));
  if (seconds > 0.05) {
    double rate = static_cast<double>(done) / seconds;
    s += " " + size_text(rate) + "/s";
    if (total && rate > 0 && done < total) {
      auto eta = static_cast<long>(static_cast<double>(total - done) / rate + 0.5);
      s += " ETA " +
           (eta >= 60 ? std::to_string(eta / 60) + "m" + std::to_string(eta % 60) + "s" : std::to_string(eta) + "s");
    }
  }
  return s;
}

Progress::~Progress() {
  std::lock_guard<std::mutex> lk(m_mu);
  if (m_mode == Mode::live) draw_locked(true);
}

size_t Progress::add(const std::string& label, uint64_t total) {
  std::lock_guard<std::mutex> lk(m_mu);
  m_items.push_back(Item{label, "waiting", total, 0, std::chrono::steady_clock::now(), false});
  if (m_mode == Mode::live) draw_locked(true);
  return m_items.size() - 1;
}

void Progress::advance(size_t id, uint64_t bytes) {
  if (m_mode != Mode::live) return;
  std::lock_guard<std::mutex> lk(m_mu);
  Item& it = m_items.at(id);
  if (it.done == 0) it.start = std::chrono::steady_clock::now();
  it.done += bytes;
  draw_locked(false);
}

void Progress::finish(size_t id, const std::string& status) {
  std::lock_guard<std::mutex> lk(m_mu);
  Item& it = m_items.at(id);
  it.finished = true;
  it.status = status;
  if (m_mode == Mode::lines) m_out << it.label << ": " << status << "\n" << std::flush;
  if (m_mode == Mode::live) draw_locked(true);
}

void Progress::draw_locked(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now - m_last_draw < std::chrono::milliseconds(100)) return;
  m_last_draw = now;
  std::string s;
  if (m_drawn) s += "\x1b[" + std::to_string(m_drawn) + "A";  // back to the first line of the block
  for (const auto& it : m_items) {
    std::string text = it.status;
    if (!it.finished && it.done) {
      double secs = std::chrono::duration<double>(now - it.start).count();
      text = bar_text(it.done, it.total, secs);
      if (it.total) {
        int width = 20,
            fill =
                static_cast<int>(width * std::min(1.0, static_cast<double>(it.done) / static_cast<double>(it.total)));
        text = "[" + std::string(fill, '=') + (fill < width ? ">" : "") +
               std::string(width - fill - (fill < width ? 1 : 0), ' ') + "] " + text;
      }
    }
    s += "\r\x1b[2K" + it.label + ": " + text + "\n";
  }
  m_drawn = m_items.size();
  m_out << s << std::flush;
}

}  // namespace kiln::oci
