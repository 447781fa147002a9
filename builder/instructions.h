// Typed instructions: every instruction of a Buildfile is parsed once, before anything runs, into the command
// of its kind with its flags checked (an unknown, repeated or malformed flag is a file:line error then), as
// BuildKit's instructions package does. Values the Buildfile's variables can change (--from, --chown, --chmod,
// --mount, paths, ENV values) stay as written and are expanded when their step runs.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "builder/buildfile.h"
#include "oci/image.h"

namespace kiln::builder {

struct FromCmd {
  std::optional<std::string> platform;
};

struct RunCmd {
  std::vector<std::string> mounts;     ///< --mount values as written (repeatable)
  std::optional<std::string> network;  ///< default, none or host
};

/// COPY and ADD.
struct CopyCmd {
  bool add = false;
  std::optional<std::string> from, chown, chmod;  ///< as written; COPY only has --from
  std::optional<std::string> checksum;            ///< ADD of a URL
  std::vector<std::string> excludes;
  bool link = false, parents = false, keep_git_dir = false;
};

struct WorkdirCmd {};

/// HEALTHCHECK, its flags and command parsed whole (BuildKit does not expand them).
struct HealthcheckCmd {
  oci::Healthcheck check;
};

/// ENV, ARG, LABEL, EXPOSE, VOLUME, USER, CMD, ENTRYPOINT, SHELL, STOPSIGNAL, ONBUILD, MAINTAINER: no flags;
/// what can be checked without the stage's variables has been (SHELL's JSON form, ONBUILD's trigger).
struct MetadataCmd {};

using Command = std::variant<FromCmd, RunCmd, CopyCmd, WorkdirCmd, HealthcheckCmd, MetadataCmd>;

/// One instruction with its typed command.
struct Step {
  const Instruction* ins = nullptr;
  Command cmd;
};

/// Parse ins into its command; errors name where (path:line) and the flag or argument at fault.
Result<Command> parse_command(const Instruction& ins, const std::string& where);

/// Go-style durations (30s, 1m30s, 500ms) in nanoseconds.
Result<int64_t> parse_duration(const std::string& s, const std::string& where);

}  // namespace kiln::builder
