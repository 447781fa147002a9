// StartAhead: the parts of a container's start that do not need its image, made while kiln resolves it.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>

#include "common/error.h"
#include "common/fd.h"
#include "common/side_thread.h"
#include "runtime/cgroups.h"
#include "runtime/spec.h"
#include "runtime/state.h"

namespace kiln::runtime {

/// `kiln run` knows the container's ID, name, limits and network from its flags alone. On a SideThread (off
/// kiln's CPU) this makes, in order, the state file (which reserves the name), the cgroups with their limits,
/// and for --network none the network namespace (the dearest step of a start), while kiln's own
/// thread resolves the image. run_container takes each part when it needs it (ContainerSpec::ahead), so the
/// clone waits only for the cgroup and the child gets the namespace once it has mounted its root.
/// Parts never taken are undone by the destructor (a run that failed to resolve its image leaves nothing).
/// Not to be carried across fork.
class StartAhead {
 public:
  /// spec: ID, name, limits and network are all it reads (copied).
  explicit StartAhead(const ContainerSpec& spec);
  ~StartAhead();
  StartAhead(const StartAhead&) = delete;
  StartAhead& operator=(const StartAhead&) = delete;
  /// The state file, then the cgroups: each waits for the side thread to have made both.
  Result<StateFile> take_state();
  Result<Cgroup> take_cgroup();
  /// The network namespace; waits for the thread to have made it. A second call makes a fresh one.
  Result<UniqueFd> take_netns();
  /// Hand the side thread one more job, run once its own work is done (the parent's share of the start, so a
  /// start creates one thread, not two). False when there is no thread to take it, or when kiln's thread is
  /// now on kiln_cpu and the side thread may run there too (moving a running thread waits for it).
  bool then(std::function<void()> job, int kiln_cpu);
  /// Until the thread has finished, with its job if it had one. Call before a raw clone without CLONE_VM (see
  /// clone_vm.h).
  void wait();

 private:
  void make();
  void serve();
  void wait_host_side();
  ContainerSpec m_spec;
  std::mutex m_mutex;
  std::condition_variable m_ready_cv;  ///< state and cgroup made; the namespace made; a job or the end posted
  bool m_host_side_ready = false;
  bool m_made = false;
  bool m_closing = false;
  std::function<void()> m_job;
  std::optional<Result<StateFile>> m_state;
  std::optional<Result<Cgroup>> m_cgroup;
  std::optional<Result<UniqueFd>> m_netns;
  SideThread m_thread;  // last: joined before the rest goes
};

}  // namespace kiln::runtime
