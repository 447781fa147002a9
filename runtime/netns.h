// The container's network namespace for --network none: made by kiln itself while the child builds its root.
#pragma once

#include <optional>

#include "common/error.h"
#include "common/fd.h"
#include "common/side_thread.h"

namespace kiln::runtime {

/// A fresh network namespace with its loopback up, as an fd for setns(2). The calling thread enters it to set
/// it up and returns to the namespace it was in, so the caller's own networking is untouched. Creating a
/// network namespace is the dearest part of a container's start (~0.8 ms); made here, it runs on another
/// CPU while the child mounts the root, instead of inside clone3 before the child exists.
Result<UniqueFd> make_network_namespace();

/// make_network_namespace on a thread of its own, started as soon as a command knows it will need one: `kiln
/// run` starts it before it resolves the image, so the namespace (~1.3 ms here, the dearest step of a start) is
/// ready by the time the child has mounted its root instead of holding it up. Not to be carried across fork.
class NetnsAhead {
 public:
  /// Starts the thread (a SideThread, off kiln's CPU). If no thread can be had, take() makes the namespace.
  NetnsAhead();
  NetnsAhead(const NetnsAhead&) = delete;
  NetnsAhead& operator=(const NetnsAhead&) = delete;
  /// Until the namespace is made (or failed). Call before a raw clone without CLONE_VM: no thread may be
  /// running then (see clone_vm.h).
  void wait();
  /// The namespace, once: waits, then hands it over.
  Result<UniqueFd> take();

 private:
  std::optional<Result<UniqueFd>> m_made;
  SideThread m_thread;  // last: joined before m_made goes
};

/// Bring the loopback interface of the calling thread's network namespace up.
Status loopback_up();

}  // namespace kiln::runtime
