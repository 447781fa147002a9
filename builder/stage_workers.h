// Independent stages of a build, built at once: each in a worker process forked from kiln, which fills the build
// cache and reports how it went through a pipe. The executor then takes each stage from the cache in its usual
// order, so the image is the one a sequential build makes (executor.cpp, build_stages).
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "common/error.h"

namespace kiln::builder {

/// A job run in a worker: the number of steps it found in the cache, or its error.
using WorkerJob = std::function<Result<size_t>()>;

/// Runs each job in a process forked from this one, at most max_at_once at a time, and waits for all of them. A
/// worker reports its result through a pipe; one that ends without a report (killed) gives an error naming how it
/// ended; a job that did not start (fork refused, or the others stopped first) has no result, and is the caller's
/// to do. The first failure ends the other workers (SIGTERM) and starts no more. Meanwhile SIGINT, SIGTERM and SIGHUP
/// are passed on to the running workers and no new one starts
/// (*cancelled_by names the first that came, else 0); a worker dies with kiln (PR_SET_PDEATHSIG). The caller must
/// have no other thread running and its output flushed.
std::vector<std::optional<Result<size_t>>> run_in_workers(const std::vector<WorkerJob>& jobs, int max_at_once,
                                                          int* cancelled_by);

/// How many stages build at once unless --jobs says: the CPUs kiln may run on.
int default_build_jobs();

}  // namespace kiln::builder
