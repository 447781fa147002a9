// What every subcommand shares: the store root, the chosen action, and registration functions.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cas/store.h"
#include "oci/distribution.h"
#include "oci/image_store.h"
#include "runtime/state.h"

namespace kiln::cli {

/// Global state a subcommand sees.
struct Context {
  std::string root;                        ///< --root, resolved before the action runs
  std::function<Status()> action;          ///< set by the chosen subcommand's callback
  int exit_code = 0;                       ///< a subcommand may set a non-error exit code (e.g. fsck)
  std::vector<std::string> after_command;  ///< the raw arguments after the subcommand's word
  std::vector<std::string> trailing;       ///< run/exec: the container's command, verbatim (split_at_target)
  oci::Puller puller;  ///< how run pulls a missing image: empty for this process (the static kiln sets one)

  /// Open the store at root.
  Result<cas::Store> store() const { return cas::Store::open(root); }
};

/// Each subcommand file adds its commands to the app.
void register_image_commands(CLI::App& app, Context& ctx);      // images, inspect, tag, rmi
void register_store_commands(CLI::App& app, Context& ctx);      // gc, fsck
void register_import_commands(CLI::App& app, Context& ctx);     // import, load, save
void register_rootfs_commands(CLI::App& app, Context& ctx);     // unpack, export
void register_run_command(CLI::App& app, Context& ctx);         // run
void register_build_command(CLI::App& app, Context& ctx);       // build
void register_registry_commands(CLI::App& app, Context& ctx);   // pull, push, login, logout
void register_container_commands(CLI::App& app, Context& ctx);  // ps, logs, stop, kill, exec
void register_version_command(CLI::App& app, Context& ctx);     // version
void register_info_command(CLI::App& app, Context& ctx);        // info
void register_history_command(CLI::App& app, Context& ctx);     // history
void register_system_commands(CLI::App& app, Context& ctx);     // system df, system prune, image prune
void register_completion_command(CLI::App& app, Context& ctx);  // completion, generate-docs (cmd_completion.cpp)

/// How this kiln was linked, for `kiln version`: main.cpp (compiled for each binary) says so for the static one.
extern const char* build_kind;

/// Help whose usage line is given rather than built: run's and exec's, whose command follows the target
/// (`kiln run [OPTIONS] IMAGE [COMMAND] [ARG...]`), which CLI11 cannot say of a positional.
void set_usage(CLI::App& cmd, std::string line);

/// The version kiln reports (`kiln --version`, `kiln version`).
#define KILN_VERSION "0.1.0"

/// How the arguments of a command shaped `[FLAGS] TARGET COMMAND…` (run, exec) divide, as docker's parser
/// divides them: flags until the first word that is not one or a flag's value, or until "--"; then the target
/// (image or container); then the container's command, left as it is, "--" and flags included.
struct TargetSplit {
  size_t target = 0;       ///< the target's index in the arguments; their size when there is none
  bool dash_dash = false;  ///< a "--" ended the flags (it stands just before the target)
  std::string unknown;     ///< the first flag before the target that the command does not know, if any
};
/// What a flag, as typed ("-e", "--env"), is to a command.
enum class FlagKind { unknown, flag, value };
/// args: the raw arguments after the command's word; kind: the command's flags.
TargetSplit split_at_target(const std::function<FlagKind(const std::string&)>& kind,
                            const std::vector<std::string>& args);
/// The same, for a command whose options are registered with CLI11.
TargetSplit split_at_target(const CLI::App& cmd, const std::vector<std::string>& args);
/// Whether name is one of the sep-separated names in list ("-e,--env").
bool in_name_list(std::string_view list, char sep, std::string_view name);
/// The line for a flag run or exec does not have: for docker flags kiln lacks on purpose, what to do instead.
std::string unknown_flag_message(const std::string& flag);

/// Running containers whose image is in this store (their state names it).
std::vector<runtime::ContainerState> running_containers_of(const cas::Store& store);
/// What gc must keep besides the tags: the build cache's layers and the images running containers use.
Result<std::vector<cas::IndexEntry>> gc_roots(const cas::Store& store);
/// The manifests running containers and builds use: what prune leaves and system df counts as active.
std::set<cas::Digest> manifests_in_use(cas::Store& store);

/// Human-readable size: "12.3MB" (decimal units, as docker prints).
std::string human_size(uint64_t bytes);
/// A reproducible creation time: given (--timestamp), else $SOURCE_DATE_EPOCH, else none; malformed is an error.
Result<std::optional<int64_t>> source_date_epoch(const std::string& given);
/// "3 hours ago" from an RFC 3339 time.
std::string human_age(const std::string& rfc3339);

}  // namespace kiln::cli
