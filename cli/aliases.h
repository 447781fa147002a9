// docker's management commands (`kiln image ls`) as the commands kiln has for each (`kiln images`).
#pragma once

#include <string_view>
#include <vector>

namespace kiln::cli {

struct Alias {
  std::string_view group, sub, command;  ///< `kiln GROUP SUB` is `kiln COMMAND`
};

/// Every alias, grouped by GROUP (image, container, system), in the order help lists them.
const std::vector<Alias>& aliases();

}  // namespace kiln::cli
