// OCI hooks (config.json "hooks"): programs the runtime calls at points of a container's life, each given the
// container's state as JSON on its stdin. prestart and createRuntime run in the runtime's namespaces during
// create, before pivot_root; createContainer in the container's, at the same point; startContainer in the
// container after `start`, before its process execs; poststart after start, poststop at delete.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "common/error.h"

namespace kiln::runtime {

struct Hook {
  std::string path;                    ///< absolute
  std::vector<std::string> args, env;  ///< args[0] is the program's argv[0]; env is the whole environment
  int timeout = 0;                     ///< seconds; 0: none
};

struct BundleHooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart, poststop;
  bool runs_at_create() const { return !prestart.empty() || !create_runtime.empty(); }
};

/// config.json's "hooks" object (text, "" for none), checked: every path absolute, every timeout positive.
Result<BundleHooks> parse_bundle_hooks(const std::string& hooks_json, const std::string& file);

/// The state a hook reads on its stdin (the runtime spec's state object).
struct HookState {
  std::string id, bundle;
  std::map<std::string, std::string> annotations;
};
std::string hook_state_json(const HookState& s, const std::string& status, pid_t pid);

/// Runs the hooks of one kind in order, each with state_json on its stdin; the first that fails, or outlives
/// its timeout (it is killed, with the processes it started), ends the run with an error naming the hook and the end of what it printed.
Status run_hooks(const std::vector<Hook>& hooks, const std::string& kind, const std::string& state_json);

}  // namespace kiln::runtime
