// The alias table: main.cpp rewrites argv by it; help, completion and man pages list it.
#include "cli/aliases.h"

namespace kiln::cli {

const std::vector<Alias>& aliases() {
  static const std::vector<Alias> table = {
      {"image", "ls", "images"},
      {"image", "list", "images"},
      {"image", "rm", "rmi"},
      {"image", "remove", "rmi"},
      {"image", "inspect", "inspect"},
      {"image", "tag", "tag"},
      {"image", "history", "history"},
      {"image", "pull", "pull"},
      {"image", "push", "push"},
      {"image", "save", "save"},
      {"image", "load", "load"},
      {"image", "import", "import"},
      {"container", "ls", "ps"},
      {"container", "list", "ps"},
      {"container", "ps", "ps"},
      {"container", "run", "run"},
      {"container", "stop", "stop"},
      {"container", "kill", "kill"},
      {"container", "logs", "logs"},
      {"container", "exec", "exec"},
      {"container", "export", "export"},
      {"container", "inspect", "container-inspect"},
      {"image", "prune", "image-prune"},
      {"system", "df", "system-df"},
      {"system", "prune", "system-prune"},
      {"system", "info", "info"},
  };
  return table;
}

}  // namespace kiln::cli
