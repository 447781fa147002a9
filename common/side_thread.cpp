// SideThread: pthread_create with the creator's CPU taken out of the new thread's affinity.
#include "common/side_thread.h"

#include <sched.h>
#include <signal.h>

namespace kiln {

void* SideThread::main(void* self) {
  static_cast<SideThread*>(self)->m_fn();
  return nullptr;
}

bool SideThread::start(std::function<void()> fn) {
  join();
  m_fn = std::move(fn);
  pthread_attr_t attr;
  if (::pthread_attr_init(&attr) != 0) return false;
  // No signal is ever delivered to it: kiln's thread takes SIGCHLD and the forwarded ones from a signalfd,
  // which a thread with them unblocked would rob (the kernel may hand a process's signal to any such thread).
  sigset_t all;
  ::sigfillset(&all);
  ::pthread_attr_setsigmask_np(&attr, &all);
  cpu_set_t others;
  int cpu = ::sched_getcpu();
  m_off_cpu = -1;
  // glibc applies the affinity before the thread first runs.
  if (cpu >= 0 && cpu < CPU_SETSIZE && ::sched_getaffinity(0, sizeof others, &others) == 0 && CPU_ISSET(cpu, &others) &&
      CPU_COUNT(&others) > 1) {
    CPU_CLR(cpu, &others);
    if (::pthread_attr_setaffinity_np(&attr, sizeof others, &others) == 0) m_off_cpu = cpu;
  }
  m_running = ::pthread_create(&m_thread, &attr, main, this) == 0;
  if (!m_running) m_off_cpu = -1;
  ::pthread_attr_destroy(&attr);
  return m_running;
}

void SideThread::join() {
  if (m_running) ::pthread_join(m_thread, nullptr);
  m_running = false;
}

}  // namespace kiln
