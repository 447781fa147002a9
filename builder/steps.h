// The step kinds of a build, one file each: each plans its step (the cache key's part and how to make the
// layer) from the typed command and the stage so far.
#pragma once

#include "builder/build_context.h"
#include "builder/instructions.h"

namespace kiln::builder {

/// COPY and ADD (step_copy.cpp).
Result<PreparedStep> prepare_copy(BuildContext& b, StageState& st, const Instruction& ins, const CopyCmd& cmd);
/// RUN (step_run.cpp).
Result<PreparedStep> prepare_run(BuildContext& b, StageState& st, const Instruction& ins, const RunCmd& cmd);
/// WORKDIR (step_workdir.cpp).
Result<PreparedStep> prepare_workdir(BuildContext& b, StageState& st, const Instruction& ins);

}  // namespace kiln::builder
