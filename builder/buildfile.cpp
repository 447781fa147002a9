// Buildfile parsing.
#include "builder/buildfile.h"
#include "common/json.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

namespace kiln::builder {

namespace {

const std::set<std::string> kKeywords = {"FROM",    "RUN", "CMD",     "LABEL",      "MAINTAINER",  "EXPOSE",
                                         "ENV",     "ADD", "COPY",    "ENTRYPOINT", "VOLUME",      "USER",
                                         "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"};
const std::set<std::string> kWithFlags = {"FROM", "RUN", "COPY", "ADD", "HEALTHCHECK"};
const std::set<std::string> kJsonForms = {"RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"};
const std::set<std::string> kHeredocs = {"RUN", "COPY", "ADD"};

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t\r");
  return s.substr(a, b - a + 1);
}

bool is_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 99;
    if (n == 99 || i + n >= s.size() + (n == 0 ? 1 : 0)) return false;
    for (size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n + 1;
  }
  return true;
}

/// The shell words of a line as BuildKit's lexer splits them: white space outside quotes separates words. Raw,
/// quotes and backslash escapes stay in the words as written; else quotes are taken away and escapes applied.
std::vector<std::string> shell_words(const std::string& line, bool raw) {
  std::vector<std::string> words;
  std::string w;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (!quote && std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(std::move(w));
      w.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    bool is_quote = (quote && c == quote) || (!quote && (c == '"' || c == '\''));
    if (c == '\\' && quote != '\'' && i + 1 < line.size()) {
      if (raw) w += c;
      w += line[++i];
      continue;
    }
    if (is_quote) quote = quote ? 0 : c;
    if (raw || !is_quote) w += c;
  }
  if (in_word) words.push_back(std::move(w));
  return words;
}

/// Heredoc markers in an instruction's arguments, found as BuildKit finds them: a whole shell word that is
/// [digits]<<[-]NAME with no other '<' (so "a<<b" or 's/<<x/y/' are not one), NAME taken unquoted; a quote in
/// it turns expansion off.
std::vector<Heredoc> find_heredocs(const std::string& args) {
  std::vector<Heredoc> out;
  for (const auto& word : shell_words(args, true)) {
    size_t i = word.find_first_not_of("0123456789");
    if (i == std::string::npos || word.compare(i, 2, "<<") != 0) continue;
    i += 2;
    Heredoc h;
    if (i < word.size() && word[i] == '-') {
      h.strip_tabs = true;
      ++i;
    }
    std::string rest = word.substr(i);
    if (rest.empty() || rest.find('<') != std::string::npos) continue;
    auto name = shell_words(rest, false);
    if (name.size() != 1 || name[0].empty()) continue;
    h.name = name[0];
    auto quotes = [](const std::string& s) {
      return std::count(s.begin(), s.end(), '"') + std::count(s.begin(), s.end(), '\'');
    };
    h.expand = quotes(h.name) == quotes(rest);
    out.push_back(h);
  }
  return out;
}

}  // namespace

bool is_lone_heredoc(const std::string& args) {
  return shell_words(args, true).size() == 1 && find_heredocs(args).size() == 1;
}

Result<Buildfile> parse_buildfile(const std::string& text, const std::string& path) {
  Buildfile bf;
  bf.path = path;
  if (!is_utf8(text)) return make_error(ErrorCode::invalid_argument, path + ": the Buildfile is not valid UTF-8");
  std::vector<std::string> lines;
  {
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      std::string l = text.substr(pos, end - pos);
      if (!l.empty() && l.back() == '\r') l.pop_back();
      lines.push_back(l);
      if (end == text.size()) break;
      pos = end + 1;
    }
  }
  if (!lines.empty() && lines[0].rfind("\xEF\xBB\xBF", 0) == 0) lines[0] = lines[0].substr(3);
  auto err = [&](size_t line, size_t col, const std::string& what) {
    return make_error(ErrorCode::invalid_argument,
                      path + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + what);
  };
  size_t i = 0;
  // Parser directives: "# key=value" lines at the very top.
  std::set<std::string> seen;
  for (; i < lines.size(); ++i) {
    std::string t = trim(lines[i]);
    if (t.size() < 2 || t[0] != '#') break;
    std::string body = trim(t.substr(1));
    auto eq = body.find('=');
    if (eq == std::string::npos) break;
    std::string key = trim(body.substr(0, eq));
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (key.empty() || key.find(' ') != std::string::npos) break;
    std::string value = trim(body.substr(eq + 1));
    // As BuildKit: a directive it does not know, or one with no value, is a comment and ends the directives.
    if (value.empty() || (key != "syntax" && key != "escape" && key != "check")) break;
    if (seen.count(key)) return err(i + 1, 1, "parser directive \"" + key + "\" is given twice");
    seen.insert(key);
    if (key == "escape") {
      if (value != "\\" && value != "`") return err(i + 1, 1, "escape must be \\ or `, not \"" + value + "\"");
      bf.escape = value[0];
    }
    // "syntax" and "check" are accepted and ignored.
  }
  while (i < lines.size()) {
    std::string t = trim(lines[i]);
    if (t.empty() || t[0] == '#') {
      ++i;
      continue;
    }
    size_t start_line = i + 1;
    // Join continuation lines; comment lines inside a continuation are dropped.
    std::string logical;
    for (;;) {
      std::string l = lines[i];
      std::string rt = l;
      while (!rt.empty() && (rt.back() == ' ' || rt.back() == '\t')) rt.pop_back();
      bool cont = !rt.empty() && rt.back() == bf.escape;
      if (cont) rt.pop_back();
      logical += cont ? rt : l;
      ++i;
      if (!cont) break;
      while (i < lines.size()) {
        std::string nt = trim(lines[i]);
        if (nt.empty() || nt[0] == '#') {  // blank and comment lines inside a continuation are skipped
          ++i;
          continue;
        }
        break;
      }
      if (i >= lines.size()) break;
    }
    std::string lt = trim(logical);
    size_t kw_end = lt.find_first_of(" \t");
    Instruction ins;
    ins.line = static_cast<int>(start_line);
    ins.keyword = upper(lt.substr(0, kw_end));
    std::string rest = kw_end == std::string::npos ? "" : trim(lt.substr(kw_end));
    size_t col = lines[start_line - 1].find_first_not_of(" \t") + 1;
    if (!kKeywords.count(ins.keyword))
      return err(
          start_line, col,
          "unknown instruction: " + lt.substr(0, kw_end) + " (expected one of FROM, RUN, COPY, ADD, ENV, ARG, …)");
    if (kWithFlags.count(ins.keyword)) {
      while (rest.rfind("--", 0) == 0) {
        size_t sp = rest.find_first_of(" \t");
        ins.flags.push_back(rest.substr(0, sp));
        rest = sp == std::string::npos ? "" : trim(rest.substr(sp));
      }
    }
    ins.args = rest;
    if (kJsonForms.count(ins.keyword) && !rest.empty() && rest[0] == '[') {
      try {
        auto j = parse_json(rest);
        if (j.is_array() && !std::all_of(j.begin(), j.end(), [](const nlohmann::json& e) { return e.is_string(); }))
          return err(start_line, 1,
                     ins.keyword + ": a JSON array here must hold strings only (BuildKit refuses it too)");
        if (j.is_array()) {
          ins.json = true;
          for (const auto& e : j) ins.json_args.push_back(e.get<std::string>());
        }
      } catch (const nlohmann::json::exception&) {
        // Not JSON: docker treats it as shell form.
      }
    }
    if (kHeredocs.count(ins.keyword) && !ins.json) {
      ins.heredocs = find_heredocs(rest);
      for (auto& h : ins.heredocs) {
        bool closed = false;
        while (i < lines.size()) {
          std::string l = lines[i++];
          std::string cmp = l;
          if (h.strip_tabs)
            cmp.erase(0, cmp.find_first_not_of('\t') == std::string::npos ? cmp.size() : cmp.find_first_not_of('\t'));
          if (cmp == h.name) {
            closed = true;
            break;
          }
          if (h.strip_tabs) l = cmp;
          h.content += l + "\n";
        }
        if (!closed) return err(start_line, col, ins.keyword + ": heredoc <<" + h.name + " is never closed");
      }
    }
    // CMD and ENTRYPOINT with nothing after them are a shell form of "" (docker 20.10's BuildKit takes them).
    if (rest.empty() && ins.keyword != "RUN" && ins.keyword != "CMD" && ins.keyword != "ENTRYPOINT")
      return err(start_line, col, ins.keyword + " requires at least one argument");
    if (rest.empty() && ins.keyword == "RUN") return err(start_line, col, "RUN requires a command");
    ins.text = ins.keyword;
    for (const auto& f : ins.flags) ins.text += " " + f;
    ins.text += " " + rest;
    bf.instructions.push_back(std::move(ins));
  }
  if (bf.instructions.empty())
    return make_error(ErrorCode::invalid_argument, path + ": the Buildfile has no instructions");
  if (bf.instructions[0].keyword != "FROM" && bf.instructions[0].keyword != "ARG")
    return err(static_cast<size_t>(bf.instructions[0].line), 1,
               "the first instruction must be FROM (or ARG before FROM), found " + bf.instructions[0].keyword);
  return bf;
}

}  // namespace kiln::builder
