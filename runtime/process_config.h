// Deciding the container's process from the image config and flags: argv, env, cwd, with docker's rules.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "oci/image.h"

namespace kiln::runtime {

/// What the user gave on the command line that overrides the image.
struct ProcessOverrides {
  std::optional<std::string> entrypoint;  ///< --entrypoint ("" clears the image's)
  std::vector<std::string> cmd;           ///< arguments after the image name
  std::vector<std::string> env;           ///< -e and --env-file, in order (KEY=V, or KEY to take the host's)
  std::string workdir;                    ///< -w
  std::string user;                       ///< -u
};

/// docker's rules: --entrypoint replaces Entrypoint and drops the image's Cmd; trailing args replace Cmd.
Result<std::vector<std::string>> resolve_args(const oci::RunConfig& image, const ProcessOverrides& o);
/// Image Env, then overrides by key; PATH gets docker's default when absent.
std::vector<std::string> resolve_env(const oci::RunConfig& image, const std::vector<std::string>& overrides);
/// Set or replace KEY in env.
void set_env(std::vector<std::string>& env, const std::string& key, const std::string& value);
std::optional<std::string> get_env(const std::vector<std::string>& env, const std::string& key);
/// Parse an --env-file: KEY=VALUE lines, # comments, blank lines; a bare KEY takes the host's value.
Result<std::vector<std::string>> parse_env_file(const std::string& text, const std::string& path);

inline constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

}  // namespace kiln::runtime
