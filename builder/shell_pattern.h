// Shell patterns of ${VAR#pat}, ${VAR%pat} and ${VAR/pat/repl}, as BuildKit's Dockerfile frontend matches them:
// `*` any run of characters, `?` one character, `\` before `*`, `?` or `\` a literal one (before `}` or `/` the
// backslash is dropped); no bracket classes. Characters are UTF-8 code points.
#pragma once

#include <string>

#include "common/error.h"

namespace kiln::builder {

/// ${VAR#pat} (longest=false) and ${VAR##pat} (longest=true): value without the shortest or longest prefix the
/// pattern matches; unchanged when none does.
Result<std::string> trim_prefix(const std::string& value, const std::string& pattern, bool longest);
/// ${VAR%pat} and ${VAR%%pat}: the same for a suffix.
Result<std::string> trim_suffix(const std::string& value, const std::string& pattern, bool longest);
/// ${VAR/pat/repl} (all=false) and ${VAR//pat/repl}: the leftmost (then longest) match replaced, or every
/// match from left to right (an empty match right after a match is skipped, as Go's regexp does).
Result<std::string> replace_pattern(const std::string& value, const std::string& pattern, const std::string& repl,
                                    bool all);

}  // namespace kiln::builder
