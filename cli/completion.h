// Completion scripts and man pages, both made from the command model (command_model.h).
#pragma once

#include <ostream>
#include <string>

#include "cli/command.h"
#include "cli/command_model.h"

namespace kiln::cli {

/// The completion script for shell (bash, zsh, fish); an error names the shells there are.
Status write_completion(const CliDoc& doc, const std::string& shell, std::ostream& out);
/// kiln.1 and kiln-COMMAND.1 (kiln-image-ls.1 for an alias) in dir.
Status write_man_pages(const CliDoc& doc, const std::string& dir);
/// The hidden `kiln generate-docs DIR` the build's install step uses: DIR/man1/*.1 and DIR/completion/ (kiln,
/// _kiln, kiln.fish).
void register_docs_command(CLI::App& app, Context& ctx);

}  // namespace kiln::cli
