// Typed instructions: flags checked and commands parsed once, before the build starts.
#include "builder/instructions.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <nlohmann/json.hpp>

#include "builder/run_step.h"
#include "common/json.h"
#include "common/number.h"

namespace kiln::builder {

namespace {

enum class FlagKind { text, boolean, list };
struct FlagSpec {
  const char* name;
  FlagKind kind;
};

/// The flags of one instruction, checked against what its kind takes. BuildKit's rules: a text flag needs
/// `=value` and is given once, a boolean is bare or `=true|false`, a list flag may repeat.
class Flags {
 public:
  static Result<Flags> parse(const Instruction& ins, std::initializer_list<FlagSpec> known, const std::string& where) {
    Flags out;
    for (const auto& word : ins.flags) {
      auto eq = word.find('=');
      std::string name = word.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      const FlagSpec* spec = nullptr;
      for (const auto& k : known)
        if (name == k.name) spec = &k;
      if (!spec) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "--" : ", --") + std::string(k.name);
        return make_error(ErrorCode::invalid_argument, where + ": unknown flag --" + name + " for " + ins.keyword +
                                                           (list.empty() ? " (it takes none)" : " (it takes " + list + ")"));
      }
      std::string value = eq == std::string::npos ? "" : word.substr(eq + 1);
      auto& values = out.m_values[name];
      if (spec->kind != FlagKind::list && !values.empty())
        return make_error(ErrorCode::invalid_argument, where + ": " + ins.keyword + " --" + name + " is given twice");
      if (spec->kind == FlagKind::boolean) {
        std::string v = value;
        for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (eq != std::string::npos && v != "true" && v != "false")
          return make_error(ErrorCode::invalid_argument, where + ": " + ins.keyword + " --" + name +
                                                             " takes true or false, not \"" + value + "\"");
        value = eq == std::string::npos || v == "true" ? "true" : "false";
      } else if (eq == std::string::npos) {
        return make_error(ErrorCode::invalid_argument,
                          where + ": " + ins.keyword + " --" + name + " needs a value (--" + name + "=VALUE)");
      }
      values.push_back(value);
    }
    return out;
  }
  std::optional<std::string> text(const std::string& name) const {
    auto it = m_values.find(name);
    if (it == m_values.end()) return std::nullopt;
    return it->second.back();
  }
  bool boolean(const std::string& name) const { return text(name).value_or("false") == "true"; }
  std::vector<std::string> list(const std::string& name) const {
    auto it = m_values.find(name);
    return it == m_values.end() ? std::vector<std::string>{} : it->second;
  }

 private:
  std::map<std::string, std::vector<std::string>> m_values;
};

std::string upper_word(const std::string& s) {
  std::string w = s.substr(0, s.find_first_of(" \t"));
  for (auto& c : w) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return w;
}

Result<Command> parse_run(const Instruction& ins, const std::string& where) {
  auto f = TRY(Flags::parse(ins, {{"mount", FlagKind::list}, {"network", FlagKind::text}}, where));
  RunCmd c;
  c.mounts = f.list("mount");
  for (const auto& m : c.mounts)
    if (m.find('$') == std::string::npos) TRY(parse_run_mount(m, where));  // else checked once expanded
  c.network = f.text("network");
  if (c.network && *c.network != "default" && *c.network != "none" && *c.network != "host")
    return make_error(ErrorCode::invalid_argument,
                      where + ": RUN --network=" + *c.network + ": it must be default, none or host");
  return Command{c};
}

Result<Command> parse_copy(const Instruction& ins, const std::string& where) {
  CopyCmd c;
  c.add = ins.keyword == "ADD";
  auto f = c.add ? TRY(Flags::parse(ins,
                                    {{"chown", FlagKind::text},
                                     {"chmod", FlagKind::text},
                                     {"link", FlagKind::boolean},
                                     {"checksum", FlagKind::text},
                                     {"keep-git-dir", FlagKind::boolean},
                                     {"exclude", FlagKind::list}},
                                    where))
                 : TRY(Flags::parse(ins,
                                    {{"from", FlagKind::text},
                                     {"chown", FlagKind::text},
                                     {"chmod", FlagKind::text},
                                     {"link", FlagKind::boolean},
                                     {"parents", FlagKind::boolean},
                                     {"exclude", FlagKind::list}},
                                    where));
  c.from = f.text("from");
  c.chown = f.text("chown");
  c.chmod = f.text("chmod");
  c.checksum = f.text("checksum");
  c.excludes = f.list("exclude");
  c.link = f.boolean("link");
  c.parents = f.boolean("parents");
  c.keep_git_dir = f.boolean("keep-git-dir");
  return Command{c};
}

/// A HEALTHCHECK duration: unset (0), or given and at least 1ms, as docker 20.10 checks it (0s included).
Result<int64_t> health_duration(const Flags& f, const std::string& name, const std::string& where) {
  auto v = f.text(name);
  if (!v) return int64_t{0};
  int64_t d = TRY(parse_duration(*v, where + ": HEALTHCHECK --" + name));
  if (d < 1000000)
    return make_error(ErrorCode::invalid_argument,
                      where + ": HEALTHCHECK --" + name + "=" + *v + " is shorter than the minimum, 1ms");
  return d;
}

Result<Command> parse_healthcheck(const Instruction& ins, const std::string& where) {
  auto f = TRY(Flags::parse(ins,
                            {{"interval", FlagKind::text},
                             {"timeout", FlagKind::text},
                             {"start-period", FlagKind::text},
                             {"start-interval", FlagKind::text},
                             {"retries", FlagKind::text}},
                            where));
  std::string rest = ins.args;
  std::string first = upper_word(rest);
  HealthcheckCmd c;
  if (first == "NONE") {
    if (rest.find_first_not_of(" \t", 4) != std::string::npos)
      return make_error(ErrorCode::invalid_argument, where + ": HEALTHCHECK NONE takes no arguments");
    c.check.test = {"NONE"};
    return Command{c};
  }
  if (first != "CMD")
    return make_error(ErrorCode::invalid_argument, where + ": HEALTHCHECK expects NONE or [OPTIONS] CMD command");
  std::string cmd = rest.substr(3);
  size_t a = cmd.find_first_not_of(" \t");
  cmd = a == std::string::npos ? "" : cmd.substr(a);
  if (cmd.empty()) return make_error(ErrorCode::invalid_argument, where + ": HEALTHCHECK CMD needs a command");
  c.check.test = {"CMD-SHELL", cmd};
  if (cmd[0] == '[') {  // the exec form, when it is a JSON string array (else the text goes to the shell)
    try {
      nlohmann::json j = parse_json(cmd);
      if (j.is_array() && !std::all_of(j.begin(), j.end(), [](const auto& e) { return e.is_string(); }))
        return make_error(
            ErrorCode::invalid_argument,
            where + ": HEALTHCHECK CMD: a JSON array here must hold strings only (BuildKit refuses it too)");
      if (j.is_array()) {
        c.check.test = {"CMD"};
        for (const auto& e : j) c.check.test.push_back(e.template get<std::string>());
      }
    } catch (const nlohmann::json::exception&) {  // not JSON: the shell form
    }
  }
  c.check.interval = TRY(health_duration(f, "interval", where));
  c.check.timeout = TRY(health_duration(f, "timeout", where));
  c.check.start_period = TRY(health_duration(f, "start-period", where));
  c.check.start_interval = TRY(health_duration(f, "start-interval", where));
  if (auto r = f.text("retries")) {
    auto n = parse_int(*r, INT32_MIN, INT32_MAX);
    if (!n) return make_error(ErrorCode::invalid_argument, where + ": HEALTHCHECK --retries=" + *r + " is not a number");
    if (*n < 1)
      return make_error(ErrorCode::invalid_argument, where + ": HEALTHCHECK --retries=" + *r + ": it must be at least 1");
    c.check.retries = static_cast<int>(*n);
  }
  return Command{c};
}

Result<Command> parse_metadata(const Instruction& ins, const std::string& where) {
  TRY(Flags::parse(ins, {}, where));
  if (ins.keyword == "SHELL" && (!ins.json || ins.json_args.empty()))
    return make_error(ErrorCode::invalid_argument,
                      where + ": SHELL requires the JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"]");
  if (ins.keyword == "ONBUILD") {
    std::string kw = upper_word(ins.args);
    if (kw == "ONBUILD" || kw == "FROM" || kw == "MAINTAINER")
      return make_error(ErrorCode::invalid_argument, where + ": ONBUILD " + kw + " is not allowed");
  }
  return Command{MetadataCmd{}};
}

}  // namespace

Result<int64_t> parse_duration(const std::string& s, const std::string& where) {
  int64_t total = 0;
  size_t i = 0;
  if (s.empty()) return make_error(ErrorCode::invalid_argument, where + ": empty duration");
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (start == i) return make_error(ErrorCode::invalid_argument, where + ": invalid duration \"" + s + "\"");
    auto n = parse_double(s.substr(start, i - start));
    if (!n) return make_error(ErrorCode::invalid_argument, where + ": invalid duration \"" + s + "\"");
    size_t ustart = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    std::string unit = s.substr(ustart, i - ustart);
    double mult = unit == "ns"   ? 1
                  : unit == "us" ? 1e3
                  : unit == "ms" ? 1e6
                  : unit == "s"  ? 1e9
                  : unit == "m"  ? 60e9
                  : unit == "h"  ? 3600e9
                                 : -1;
    if (mult < 0)
      return make_error(ErrorCode::invalid_argument, where + ": invalid duration \"" + s + "\" (units: ms, s, m, h)");
    double part = *n * mult;
    if (part > 9e18 || static_cast<double>(total) + part > 9e18)
      return make_error(ErrorCode::invalid_argument, where + ": duration \"" + s + "\" is too long");
    total += static_cast<int64_t>(part);
  }
  return total;
}

Result<Command> parse_command(const Instruction& ins, const std::string& where) {
  const std::string& k = ins.keyword;
  if (k == "FROM") {
    auto f = TRY(Flags::parse(ins, {{"platform", FlagKind::text}}, where));
    return Command{FromCmd{f.text("platform")}};
  }
  if (k == "RUN") return parse_run(ins, where);
  if (k == "COPY" || k == "ADD") return parse_copy(ins, where);
  if (k == "HEALTHCHECK") return parse_healthcheck(ins, where);
  if (k == "WORKDIR") {
    TRY(Flags::parse(ins, {}, where));
    return Command{WorkdirCmd{}};
  }
  return parse_metadata(ins, where);
}

}  // namespace kiln::builder
