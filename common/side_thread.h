// SideThread: a thread born on the CPUs other than its creator's, for work done beside kiln's own thread.
#pragma once

#include <pthread.h>

#include <functional>

namespace kiln {

/// Left to the scheduler, a new thread often starts on its creator's CPU and either holds the creator up
/// (this kernel, PREEMPT_NONE, does not preempt long system calls such as a network namespace setup) or
/// waits for a migration to the idle CPU (bench/PERFORMANCE.md). Born with the other CPUs as its affinity, it starts on
/// one of them at once; never on a CPU outside the creator's own mask (taskset), and with one CPU a plain thread. All
/// signals stay blocked in it, so it never takes one meant for kiln's thread.
class SideThread {
 public:
  SideThread() = default;
  ~SideThread() { join(); }
  SideThread(const SideThread&) = delete;
  SideThread& operator=(const SideThread&) = delete;
  /// Run fn on the new thread; false when no thread can be had (fn is then not run).
  bool start(std::function<void()> fn);
  /// Wait for fn to return; nothing when the thread was never started or is joined already.
  void join();
  /// True when the thread was born on other CPUs than its creator's (then it may take the clone's parent share).
  bool elsewhere() const { return m_off_cpu >= 0; }
  /// The creator's CPU at the start, which the thread's affinity leaves out; -1 unless elsewhere().
  int off_cpu() const { return m_off_cpu; }

 private:
  static void* main(void* self);
  std::function<void()> m_fn;
  pthread_t m_thread{};
  bool m_running = false;
  int m_off_cpu = -1;
};

}  // namespace kiln
