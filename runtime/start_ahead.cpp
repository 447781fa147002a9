// StartAhead: state file, cgroups and network namespace on a side thread while the image is resolved.
#include "runtime/start_ahead.h"

#include "runtime/netns.h"

namespace kiln::runtime {

StartAhead::StartAhead(const ContainerSpec& spec) {
  m_spec.id = spec.id;
  m_spec.name = spec.name;
  m_spec.network = spec.network;
  m_spec.memory_bytes = spec.memory_bytes;
  m_spec.pids_limit = spec.pids_limit;
  m_spec.cpus = spec.cpus;
  if (!m_thread.start([this] { serve(); })) make();  // no thread to be had: the same work, now
}

void StartAhead::serve() {
  make();
  std::function<void()> job;
  {
    std::unique_lock lock(m_mutex);
    m_ready_cv.wait(lock, [this] { return m_job || m_closing; });
    job = std::move(m_job);
  }
  if (job) job();
}

bool StartAhead::then(std::function<void()> job, int kiln_cpu) {
  {
    std::lock_guard lock(m_mutex);
    if (!m_thread.elsewhere() || kiln_cpu != m_thread.off_cpu() || m_closing || m_job) return false;
    m_job = std::move(job);
  }
  m_ready_cv.notify_all();
  return true;
}

void StartAhead::wait() {
  {
    std::lock_guard lock(m_mutex);
    m_closing = true;
  }
  m_ready_cv.notify_all();
  m_thread.join();
}

void StartAhead::make() {
  Result<StateFile> state = StateFile::create(m_spec);
  std::optional<Result<Cgroup>> cg;
  if (state) cg = Cgroup::create(m_spec.id, m_spec);
  bool going_on = cg && *cg;  // else the start stops at take_state or take_cgroup: no namespace to make
  {
    std::lock_guard lock(m_mutex);
    m_state = std::move(state);
    if (cg) m_cgroup = std::move(*cg);
    m_host_side_ready = true;
  }
  m_ready_cv.notify_all();
  std::optional<Result<UniqueFd>> netns;
  if (going_on && m_spec.network != Network::host) netns = make_network_namespace();
  {
    std::lock_guard lock(m_mutex);
    m_netns = std::move(netns);
    m_made = true;
  }
  m_ready_cv.notify_all();
}

void StartAhead::wait_host_side() {
  std::unique_lock lock(m_mutex);
  m_ready_cv.wait(lock, [this] { return m_host_side_ready; });
}

namespace {

/// A part made ahead, handed over once; why is the error when there is none.
template <typename T>
Result<T> hand_over(std::optional<Result<T>>& part, const char* why) {
  if (!part) return make_error(ErrorCode::generic, why);
  Result<T> p = std::move(*part);
  part.reset();
  return p;
}

}  // namespace

Result<StateFile> StartAhead::take_state() {
  wait_host_side();
  std::lock_guard lock(m_mutex);
  return hand_over(m_state, "the container's state file was taken already");
}

Result<Cgroup> StartAhead::take_cgroup() {
  wait_host_side();
  std::lock_guard lock(m_mutex);
  return hand_over(m_cgroup, "the container's cgroup was not made (its state file failed)");
}

Result<UniqueFd> StartAhead::take_netns() {
  std::optional<Result<UniqueFd>> n;
  {
    std::unique_lock lock(m_mutex);
    m_ready_cv.wait(lock, [this] { return m_made; });
    n.swap(m_netns);
  }
  return n ? std::move(*n) : make_network_namespace();
}

StartAhead::~StartAhead() {
  wait();
  if (m_cgroup && *m_cgroup) (*m_cgroup)->destroy();
  if (m_state && *m_state) (*m_state)->remove();
}

}  // namespace kiln::runtime
