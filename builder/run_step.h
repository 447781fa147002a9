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
  /// secret with env=NAME: the secret's text is the variable NAME of the step's process (and a file only where
  /// a target is given too).
  std::optional<std::string> env;
};

/// Parse one --mount value, as BuildKit users write it. An ssh mount without a target gets BuildKit's
/// /run/buildkit/ssh_agent.N, N counting the step's ssh mounts before it.
Result<RunMount> parse_run_mount(const std::string& spec, const std::string& where, size_t ssh_index = 0);

/// The argv of a RUN: exec form as is; shell form through the shell. `RUN <<EOF` alone runs the heredoc as the
/// shell's script; with a shebang, as BuildKit does, the shell is given script_in_container(EOF), the file the
/// caller binds there with the text run_argv puts in *script (left empty when no file is needed).
std::vector<std::string> run_argv(const Instruction& ins, const std::vector<std::string>& shell, std::string& script);

/// Where `RUN <<NAME` with a shebang finds its script: BuildKit's /dev/pipes/NAME (a read-only bind, mode 0755),
/// or /dev/pipes/script for a name that is not one path component.
std::string script_in_container(const std::string& heredoc_name);

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
