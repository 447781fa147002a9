// The Buildfile (Dockerfile syntax): parser directives, comments, continuations, JSON and shell forms,
// flags and heredocs, each instruction with its file:line for errors.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace kiln::builder {

/// A heredoc body attached to an instruction (`RUN <<EOF`, `COPY <<-"EOF" /dst`).
struct Heredoc {
  std::string name;     ///< the delimiter word
  std::string content;  ///< lines between the instruction and the delimiter, each ending in '\n'
  bool expand = true;   ///< false when the delimiter was quoted
  bool strip_tabs = false;
};

/// One instruction as written.
struct Instruction {
  std::string keyword;             ///< upper case: FROM, RUN, COPY, …
  std::vector<std::string> flags;  ///< leading --name[=value] words, as written (instructions.h checks them)
  std::string args;                ///< the rest of the line (continuations joined), shell form
  bool json = false;               ///< exec form: args parsed as a JSON string array into json_args
  std::vector<std::string> json_args;
  std::vector<Heredoc> heredocs;
  int line = 0;      ///< 1-based line of the keyword
  std::string text;  ///< "KEYWORD args" for history and progress
};

struct Buildfile {
  std::string path;  ///< for errors
  char escape = '\\';
  std::vector<Instruction> instructions;
};

/// Parse Buildfile text. Errors name path:line:column, the instruction and what was expected.
Result<Buildfile> parse_buildfile(const std::string& text, const std::string& path);

/// Whether an instruction's arguments are one heredoc marker and nothing else (`<<EOF`, `<<-"my doc"`): for
/// RUN, BuildKit then runs the heredoc as the script instead of handing the line to the shell.
bool is_lone_heredoc(const std::string& args);

}  // namespace kiln::builder
