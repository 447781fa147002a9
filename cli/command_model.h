// What the parser knows of kiln's commands, as data: completion scripts and man pages are made from it, so
// they list exactly the commands and flags the parser takes.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace kiln::cli {

struct FlagDoc {
  std::vector<std::string> names;  ///< as typed: "-t", "--tag"
  bool takes_value = false;
  std::string help;
};

struct CommandDoc {
  std::string name;  ///< "build", or an alias's two words: "image ls"
  std::string help;
  std::string usage;                     ///< "kiln build [OPTIONS] [CONTEXT]"
  std::vector<std::string> positionals;  ///< IMAGE, CONTAINER, CONTEXT…: what the arguments are
  std::vector<FlagDoc> flags;            ///< -h/--help included
  std::string alias_of;                  ///< for an alias, the command it runs
};

struct CliDoc {
  std::string help;              ///< kiln's own description
  std::vector<FlagDoc> globals;  ///< --root, --log-level…
  std::vector<CommandDoc> commands;
};

/// The model of app, whose every command group is registered: visible commands, then the aliases.
CliDoc describe(const CLI::App& app);

}  // namespace kiln::cli
