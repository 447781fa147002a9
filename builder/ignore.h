// Ignore files (.kilnignore, .containerignore, .dockerignore) with Docker's pattern rules.
#pragma once

#include <string>
#include <vector>

#include "builder/glob.h"
#include "common/error.h"

namespace kiln::builder {

/// Glob matching as Go's filepath.Match: *, ?, [a-z], [!x], \ escapes; '/' is never matched by * or ?.
Result<bool> glob_match(const std::string& pattern, const std::string& path);

/// A compiled ignore file.
class IgnoreRules {
 public:
  /// Parse the file's text: one pattern a line, # comments, ! exceptions, ** for any depth.
  static Result<IgnoreRules> parse(const std::string& text);
  /// True when path (relative to the context, '/'-separated) is excluded: the last pattern matching it
  /// or one of its parent directories decides.
  bool excluded(const std::string& path) const;
  /// True when some exception pattern exists (so an excluded directory must still be walked).
  bool has_exceptions() const { return m_has_exceptions; }
  bool empty() const { return m_rules.empty(); }

 private:
  struct Rule {
    Glob glob;
    bool exception;
    size_t depth;  ///< path components in the pattern
  };
  std::vector<Rule> m_rules;
  bool m_has_exceptions = false;
};

/// Read the first of .kilnignore, .containerignore, .dockerignore present in the context.
Result<IgnoreRules> load_ignore_file(const std::string& context_dir);

}  // namespace kiln::builder
