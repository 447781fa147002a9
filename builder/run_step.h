// RUN: the command in a container whose root is the stage's layers plus a fresh upperdir; the upperdir's
// changes become the step's layer. RUN --mount (cache, bind, tmpfs, secret) and --network.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "builder/buildfile.h"
#include "builder/expand.h"
#include "runtime/spec.h"

namespace kiln::builder {

/// A parsed `RUN --mount=…` flag.
struct RunMount {
  std::string type = "bind";  ///< bind, cache, tmpfs, secret
  std::string target, source, from, id;
  bool readonly = true;  ///< bind: read-only unless rw
  std::string sharing = "shared";
  std::string mode;
  std::optional<uint32_t> uid, gid;
  bool required = false;
};

/// Parse one --mount value, as BuildKit users write it.
Result<RunMount> parse_run_mount(const std::string& spec, const std::string& where);

/// The argv of a RUN: exec form as is; shell form through the shell; heredocs as scripts (a shebang honoured
/// by writing the script to script_path and running it).
std::vector<std::string> run_argv(const Instruction& ins, const std::vector<std::string>& shell, std::string& script,
                                  const std::string& script_path);

}  // namespace kiln::builder
