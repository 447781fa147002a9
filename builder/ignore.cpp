// Ignore patterns.
#include "builder/ignore.h"

#include <sstream>

#include "common/fd.h"

namespace kiln::builder {

namespace {

/// filepath.Clean for '/'-separated relative patterns.
std::string clean(const std::string& p) {
  std::vector<std::string> parts;
  std::stringstream in(p);
  std::string c;
  while (std::getline(in, c, '/')) {
    if (c.empty() || c == ".") continue;
    if (c == ".." && !parts.empty() && parts.back() != "..") {
      parts.pop_back();
      continue;
    }
    parts.push_back(c);
  }
  std::string out;
  for (const auto& s : parts) out += (out.empty() ? "" : "/") + s;
  return out.empty() ? "." : out;
}

size_t depth_of(const std::string& p) {
  size_t n = 1;
  for (char c : p) n += c == '/';
  return n;
}

}  // namespace

Result<bool> glob_match(const std::string& pattern, const std::string& path) {
  return TRY(Glob::compile(pattern)).match(path);
}

Result<IgnoreRules> IgnoreRules::parse(const std::string& text) {
  IgnoreRules r;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t a = line.find_first_not_of(" \t\r");
    if (a == std::string::npos) continue;
    size_t b = line.find_last_not_of(" \t\r");
    line = line.substr(a, b - a + 1);
    if (line[0] == '#') continue;
    bool exception = line[0] == '!';
    if (exception) line = line.substr(1);
    while (!line.empty() && line[0] == '/') line = line.substr(1);
    if (line.empty()) continue;
    std::string pat = clean(line);
    auto glob = Glob::compile(pat);
    if (!glob) return std::move(glob).error();
    r.m_rules.push_back(Rule{std::move(*glob), exception, depth_of(pat)});
    r.m_has_exceptions |= exception;
  }
  return r;
}

bool IgnoreRules::excluded(const std::string& path) const {
  if (m_rules.empty()) return false;
  bool matched = false;
  // A rule that matches a parent directory excludes what is in it: the parents are the path's prefixes.
  std::string_view whole(path);
  for (const auto& rule : m_rules) {
    bool m = rule.glob.match(whole);
    for (size_t i = whole.find('/', 1); !m && i != std::string_view::npos; i = whole.find('/', i + 1))
      if (whole[i - 1] != '/') m = rule.glob.match(whole.substr(0, i));
    if (m) matched = !rule.exception;
  }
  return matched;
}

Result<IgnoreRules> load_ignore_file(const std::string& context_dir) {
  for (const char* name : {".kilnignore", ".containerignore", ".dockerignore"}) {
    auto text = read_file(context_dir + "/" + name);
    if (text) return TRY_CTX(IgnoreRules::parse(*text), context_dir + "/" + name);
    if (text.error().code != ErrorCode::not_found) return std::move(text).error();
  }
  return IgnoreRules{};
}

}  // namespace kiln::builder
