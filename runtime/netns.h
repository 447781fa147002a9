// The container's network namespace for --network none: made by kiln itself, on a side thread, not in clone3.
#pragma once

#include "common/error.h"
#include "common/fd.h"

namespace kiln::runtime {

/// A fresh network namespace with its loopback up, as an fd for setns(2). The calling thread enters it to set
/// it up and returns to the namespace it was in, so the caller's own networking is untouched. Creating a
/// network namespace is the dearest part of a container's start (bench/PERFORMANCE.md); made here, it runs on another
/// CPU (StartAhead's thread for kiln run, the side thread beside the child otherwise) instead of inside clone3
/// before the child exists.
Result<UniqueFd> make_network_namespace();

/// Bring the loopback interface of the calling thread's network namespace up.
Status loopback_up();

}  // namespace kiln::runtime
