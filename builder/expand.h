// Variable expansion and word splitting where Docker expands: $VAR, ${VAR}, the ${VAR…} modifiers BuildKit takes
// (:- - :+ + :? ? # ## % %% / //), quotes, escapes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace kiln::builder {

/// Variables in effect (ARG and ENV), name → value.
using Vars = std::map<std::string, std::string>;

/// Expand one word: variables substituted, quotes removed, escapes applied. No splitting.
Result<std::string> expand_word(const std::string& text, const Vars& vars, char escape = '\\');
/// Expand and split on unquoted whitespace (COPY sources, EXPOSE ports…).
Result<std::vector<std::string>> expand_words(const std::string& text, const Vars& vars, char escape = '\\');
/// Parse ENV/LABEL/ARG style "k=v k2='v 2'" (or legacy "k v") into pairs, expanding values.
/// One ARG instruction's declarations: `ARG a=0 b c="x y"` declares a (default "0"), b (none) and c, each default
/// expanded with vars as it stands (so a later one may use an earlier one only through vars).
struct ArgDecl {
  std::string name;
  std::optional<std::string> value;
};
Result<std::vector<ArgDecl>> parse_arg_decls(const std::string& text, const Vars& vars, char escape);

Result<std::vector<std::pair<std::string, std::string>>> parse_key_values(const std::string& text, const Vars& vars,
                                                                          char escape = '\\');

}  // namespace kiln::builder
