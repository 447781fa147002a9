// Ignore patterns.
#include "builder/ignore.h"

#include <sstream>

#include "common/fd.h"

namespace kiln::builder {

namespace {

/// Translate one glob (with ** support) to an anchored regex over '/'-separated paths.
Result<std::string> to_regex(const std::string& pat) {
  std::string re = "^";
  for (size_t i = 0; i < pat.size(); ++i) {
    char c = pat[i];
    if (c == '*') {
      if (i + 1 < pat.size() && pat[i + 1] == '*') {
        ++i;
        // "**/" matches zero or more directories; a trailing "**" matches everything below.
        if (i + 1 < pat.size() && pat[i + 1] == '/') {
          ++i;
          re += "(.*/)?";
        } else {
          re += ".*";
        }
      } else {
        re += "[^/]*";
      }
    } else if (c == '?') {
      re += "[^/]";
    } else if (c == '[') {
      size_t j = i + 1;
      std::string cls = "[";
      if (j < pat.size() && (pat[j] == '!' || pat[j] == '^')) {
        cls += '^';
        ++j;
      }
      bool closed = false;
      for (; j < pat.size(); ++j) {
        if (pat[j] == ']' && cls.size() > 1 && cls != "[^") {
          closed = true;
          break;
        }
        if (pat[j] == '\\' && j + 1 < pat.size()) {
          cls += '\\';
          cls += pat[++j];
          continue;
        }
        cls += pat[j];
      }
      if (!closed)
        return make_error(ErrorCode::invalid_argument, "syntax error in pattern \"" + pat + "\": unclosed [");
      re += cls + "]";
      i = j;
    } else if (c == '\\' && i + 1 < pat.size()) {
      re += '\\';
      re += pat[++i];
    } else if (std::string(".+()|^${}").find(c) != std::string::npos) {
      re += '\\';
      re += c;
    } else {
      re += c;
    }
  }
  return re + "$";
}

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
  std::string re = TRY(to_regex(pattern));
  return std::regex_match(path, std::regex(re));
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
    auto re = to_regex(pat);
    if (!re) return std::move(re).error().context("ignore file");
    r.m_rules.push_back(Rule{std::regex(*re), exception, depth_of(pat)});
    r.m_has_exceptions |= exception;
  }
  return r;
}

bool IgnoreRules::excluded(const std::string& path) const {
  if (m_rules.empty()) return false;
  bool matched = false;
  std::vector<std::string> parents;
  {
    std::stringstream in(path);
    std::string c, acc;
    while (std::getline(in, c, '/')) {
      acc += (acc.empty() ? "" : "/") + c;
      parents.push_back(acc);
    }
  }
  for (const auto& rule : m_rules) {
    bool m = std::regex_match(path, rule.re);
    for (size_t i = 0; !m && i + 1 < parents.size(); ++i) m = std::regex_match(parents[i], rule.re);
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
