// RUN: the command in a container whose root is the stage's layers plus a fresh upperdir; the upperdir's
// changes become the step's layer. RUN --mount (cache, bind, tmpfs, secret, ssh) and --network.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "builder/buildfile.h"
#include "builder/expand.h"
#include "builder/image_view.h"
#include "runtime/spec.h"

namespace kiln::builder {

/// A parsed `RUN --mount=…` flag.
struct RunMount {
  std::string type = "bind";  ///< bind, cache, tmpfs, secret, ssh
  std::string target, source, from, id;
  bool readonly = true;  ///< bind: read-only unless rw
  std::string sharing = "shared";
  std::string mode;
  std::optional<uint32_t> uid, gid;
  bool required = false;
};

/// Parse one --mount value, as BuildKit users write it. An ssh mount without a target gets BuildKit's
/// /run/buildkit/ssh_agent.N, N counting the step's ssh mounts before it.
Result<RunMount> parse_run_mount(const std::string& spec, const std::string& where, size_t ssh_index = 0);

/// The argv of a RUN: exec form as is; shell form through the shell; heredocs as scripts (a shebang honoured
/// by writing the script to script_path and running it).
std::vector<std::string> run_argv(const Instruction& ins, const std::vector<std::string>& shell, std::string& script,
                                  const std::string& script_path);

/// Where RUN <<EOF with a shebang finds its script (a read-only bind of kiln's own).
inline constexpr const char* kScriptInContainer = "/.kiln-run-script";

/// Directories the runtime's top layer provides (/etc, /tmp, /run, mount parents…) carry that layer's metadata
/// when a step copies them up: give them back the image's own before the upper becomes a layer.
Status fix_copied_up_dirs(const std::string& upper, ImageView& v, const runtime::ContainerSpec& spec);
/// What BuildKit's RUN leaves in its layer: the directories its runtime made to mount on (/dev, /proc, /sys,
/// /etc for hosts and resolv.conf, each RUN --mount target and the parents of a file target), empty, root's,
/// 0755, where the image had nothing. kiln mounts on its own top layer instead, so they are made in upper here
/// (own_mount, kiln's own, is left out).
Status leave_mountpoints(const std::string& upper, ImageView& v, const runtime::ContainerSpec& spec,
                         const std::string& own_mount);

}  // namespace kiln::builder
