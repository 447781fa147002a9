// --format templates as docker and podman take them: Go's text/template syntax over each listed object, so the
// scripts users wrote for docker keep working. What is supported: text and {{actions}} (with {{- and -}} to trim
// space), field chains (.Repository, .Config.Cmd, .), string and number literals, pipes (|), {{if}}/{{else}},
// {{range}} and {{with}} with {{end}}, and the functions docker adds or Go has that scripts use: json, join,
// split, lower, upper, title, truncate, index, len, print, println, printf, eq, ne, not, and, or.
// A leading "table" prints a header row (from the command's column names) and aligns the tab-separated columns
// as docker's tabwriter does; "\t" and "\n" in the format are a tab and a newline, as docker reads them.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace kiln::cli {

struct TemplateNode;

class GoTemplate {
 public:
  /// Parse a --format value; errors are one line naming the format and what is wrong.
  static Result<GoTemplate> parse(const std::string& format);
  /// The text for one object. lenient: a field the object lacks is "" rather than an error (a table's header
  /// is the template over the column titles, and not every field has one).
  Result<std::string> render(const nlohmann::json& dot, bool lenient = false) const;
  /// Whether the format asked for a table (a header row, aligned columns).
  bool table() const { return m_table; }

  GoTemplate();
  ~GoTemplate();
  GoTemplate(GoTemplate&&) noexcept;
  GoTemplate& operator=(GoTemplate&&) noexcept;

 private:
  std::vector<std::unique_ptr<TemplateNode>> m_nodes;
  bool m_table = false;
  std::string m_source;
};

/// Print each object through the format: one line per object, or with "table" a header (the template rendered
/// over headers: field name → column title) and columns aligned as docker's tabwriter aligns them.
Status print_formatted(const std::string& format, const std::vector<nlohmann::json>& objects,
                       const nlohmann::json& headers, std::ostream& out);

/// Columns split at tabs, each padded to its widest cell plus 3 (at least 10 wide), as docker's tabwriter.
std::string tabwrite(const std::vector<std::vector<std::string>>& rows);

}  // namespace kiln::cli
