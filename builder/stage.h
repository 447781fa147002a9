// Stages of a Buildfile: their bases, names, instructions, and which ones a target needs.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "builder/buildfile.h"
#include "builder/expand.h"
#include "builder/instructions.h"
#include "oci/image.h"

namespace kiln::builder {

struct Stage {
  size_t index = 0;
  std::string name;  ///< lower case, empty if unnamed
  std::string base;  ///< expanded FROM argument
  std::string platform;
  const Instruction* from = nullptr;
  std::vector<Step> steps;   ///< the instructions after FROM, typed
  std::vector<size_t> deps;  ///< stages this one reads (FROM <stage>, COPY --from=<stage>)
  std::optional<size_t> base_stage;
};

/// Split into stages, parse every instruction into its typed command (so a bad flag anywhere fails before
/// anything runs), expand FROM lines with the global ARGs, find dependencies, check for unknown or cyclic
/// stage references. global_args receives the ARGs declared before the first FROM.
Result<std::vector<Stage>> plan_stages(const Buildfile& bf, const Vars& build_args, Vars& global_args);
/// Stage index of a --from/FROM name ("builder", or "0"), if it names an earlier stage.
std::optional<size_t> find_stage(const std::vector<Stage>& stages, const std::string& name, size_t before);
/// The stages needed for target (default: the last), in build order.
Result<std::vector<size_t>> stages_for(const std::vector<Stage>& stages, const std::string& target,
                                       const std::string& path);

/// The state of a stage being built: its image so far and the variables in scope.
struct StageState {
  oci::ImageConfig config;
  std::vector<oci::Descriptor> layers;
  std::string key;  ///< cache key of everything so far (hex)
  Vars args;        ///< ARGs in scope
  /// ARGs declared after an ENV of the same name: for expansion and RUN's environment the later declaration
  /// wins (BuildKit's order), though the image keeps the ENV.
  std::set<std::string> args_over_env;
  bool cmd_set = false;
  /// The ARG names this stage declared, in order (a stage built on another starts without its parent's): RUN's
  /// history entry lists them, as BuildKit's does.
  std::vector<std::string> declared_args;
  /// ARG values and ENV, the later declaration of a name winning, for expansion.
  Vars vars() const;
};

/// A metadata step applied: the canonical text the cache key uses, and its history entry (none for ONBUILD,
/// which BuildKit does not record).
struct MetadataStep {
  std::string canon;
  std::optional<std::string> created_by;
};

/// Apply a metadata-only instruction (ENV, LABEL, EXPOSE, VOLUME, USER, CMD, ENTRYPOINT, SHELL, STOPSIGNAL,
/// HEALTHCHECK, ONBUILD, MAINTAINER, ARG) to the stage (step_metadata.cpp).
Result<MetadataStep> apply_metadata(const Step& step, StageState& st, const Vars& build_args, const Vars& global_args,
                                    char escape, const std::string& where);
/// SHELL or the default ["/bin/sh", "-c"].
std::vector<std::string> stage_shell(const StageState& st);

}  // namespace kiln::builder
