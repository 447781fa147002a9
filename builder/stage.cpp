// Stage planning.
#include "builder/stage.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <set>

#include <nlohmann/json.hpp>

#include "builder/run_step.h"
#include "common/number.h"
#include "common/json.h"

namespace kiln::builder {

namespace {
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string where(const Buildfile& bf, const Instruction& ins) { return bf.path + ":" + std::to_string(ins.line); }
}  // namespace

std::optional<size_t> find_stage(const std::vector<Stage>& stages, const std::string& name, size_t before) {
  std::string n = lower(name);
  for (size_t i = 0; i < before && i < stages.size(); ++i)
    if (stages[i].name == n && !n.empty()) return i;
  if (auto idx = parse_uint(n); idx && *idx < before) return static_cast<size_t>(*idx);
  return std::nullopt;
}

Result<std::vector<Stage>> plan_stages(const Buildfile& bf, const Vars& build_args, Vars& global_args) {
  std::vector<Stage> stages;
  // BuildKit's automatic platform ARGs: usable in FROM lines, and in a stage that declares them (ARG TARGETOS).
  for (const auto& [k, v] : std::initializer_list<std::pair<const char*, const char*>>{
           {"TARGETPLATFORM", "linux/amd64"}, {"TARGETOS", "linux"}, {"TARGETARCH", "amd64"}, {"TARGETVARIANT", ""},
           {"BUILDPLATFORM", "linux/amd64"}, {"BUILDOS", "linux"}, {"BUILDARCH", "amd64"}, {"BUILDVARIANT", ""}})
    global_args.emplace(k, v);
  for (const auto& ins : bf.instructions) {
    if (ins.keyword == "FROM") {
      Stage s;
      s.index = stages.size();
      s.from = &ins;
      auto words = TRY_CTX(expand_words(ins.args, global_args, bf.escape), where(bf, ins));
      if (words.size() == 3 && lower(words[1]) == "as") {
        // BuildKit takes the name as written (no variable in it) and lowercased: a letter, then letters,
        // digits, '-', '_' and '.'.
        std::string args = ins.args.substr(0, ins.args.find_last_not_of(" \t\r") + 1);
        std::string raw = args.substr(args.find_last_of(" \t") + 1);
        s.name = lower(raw);
        bool valid = !s.name.empty() && s.name[0] >= 'a' && s.name[0] <= 'z' &&
                     s.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.") == std::string::npos;
        if (!valid)
          return make_error(ErrorCode::invalid_argument,
                            where(bf, ins) + ": invalid stage name \"" + raw +
                                "\": it must start with a letter and hold only letters, digits, '-', '_' and '.'");
      } else if (words.size() != 1)
        return make_error(ErrorCode::invalid_argument,
                          where(bf, ins) + ": FROM expects IMAGE [AS NAME], found \"" + ins.args + "\"");
      s.base = words[0];
      auto cmd = std::get<FromCmd>(TRY(parse_command(ins, where(bf, ins))));
      if (cmd.platform) s.platform = TRY(expand_word(*cmd.platform, global_args, bf.escape));
      if (!s.name.empty() && find_stage(stages, s.name, stages.size()))
        return make_error(ErrorCode::invalid_argument,
                          where(bf, ins) + ": stage name \"" + s.name + "\" is used twice");
      if (auto b = find_stage(stages, s.base, stages.size())) {
        s.base_stage = *b;
        s.deps.push_back(*b);
      } else if (lower(s.base) == s.name && !s.name.empty()) {
        return make_error(ErrorCode::invalid_argument,
                          where(bf, ins) + ": stage \"" + s.name + "\" cannot be built FROM itself (cycle)");
      }
      stages.push_back(std::move(s));
      continue;
    }
    if (stages.empty()) {  // ARG before the first FROM
      TRY(parse_command(ins, where(bf, ins)));
      for (const auto& d : TRY_CTX(parse_arg_decls(ins.args, global_args, bf.escape), where(bf, ins))) {
        if (auto it = build_args.find(d.name); it != build_args.end())
          global_args[d.name] = it->second;
        else if (d.value)
          global_args[d.name] = *d.value;
      }
      continue;
    }
    stages.back().steps.push_back(Step{&ins, TRY(parse_command(ins, where(bf, ins)))});
  }
  if (stages.empty())
    return make_error(ErrorCode::invalid_argument, bf.path + ": the Buildfile contains no stages to build (no FROM)");
  // The stages a step reads: COPY/ADD --from and RUN --mount from=, by name or index, earlier or later in the
  // file (BuildKit takes a later one too); a stage that reaches itself is a cycle.
  for (auto& s : stages)
    for (const Step& step : s.steps) {
      const Instruction* ins = step.ins;
      std::vector<std::string> froms;
      if (auto* copy = std::get_if<CopyCmd>(&step.cmd); copy && copy->from) froms.push_back(*copy->from);
      if (auto* run = std::get_if<RunCmd>(&step.cmd))
        for (const auto& spec : run->mounts) {
          auto m = TRY(parse_run_mount(spec, where(bf, *ins)));
          if (!m.from.empty()) froms.push_back(m.from);
        }
      for (const auto& f : froms) {
        auto dep = find_stage(stages, f, stages.size());
        if (!dep) continue;  // an image
        if (*dep == s.index)
          return make_error(ErrorCode::invalid_argument,
                            where(bf, *ins) + ": --from=" + f + " refers to this stage (stage cycle)");
        s.deps.push_back(*dep);
      }
    }
  std::vector<int> state(stages.size(), 0);  // 0 unvisited, 1 on the path, 2 done
  std::function<Status(size_t)> visit = [&](size_t i) -> Status {
    if (state[i] == 1)
      return make_error(ErrorCode::invalid_argument,
                        where(bf, *stages[i].from) + ": stage " + (stages[i].name.empty() ? std::to_string(i) : stages[i].name) +
                            " depends on itself through --from (stage cycle)");
    if (state[i] == 2) return {};
    state[i] = 1;
    for (size_t d : stages[i].deps) TRY(visit(d));
    state[i] = 2;
    return {};
  };
  for (size_t i = 0; i < stages.size(); ++i) TRY(visit(i));
  return stages;
}

Result<std::vector<size_t>> stages_for(const std::vector<Stage>& stages, const std::string& target,
                                       const std::string& path) {
  size_t t = stages.size() - 1;
  if (!target.empty()) {
    auto found = find_stage(stages, target, stages.size());
    if (!found) return make_error(ErrorCode::not_found, path + ": --target " + target + ": no stage of that name");
    t = *found;
  }
  // Dependencies first (a --from may name a later stage); plan_stages has refused cycles.
  std::set<size_t> seen;
  std::vector<size_t> order;
  std::function<void(size_t)> visit = [&](size_t i) {
    if (!seen.insert(i).second) return;
    std::vector<size_t> deps = stages[i].deps;
    std::sort(deps.begin(), deps.end());
    for (size_t d : deps) visit(d);
    order.push_back(i);
  };
  visit(t);
  return order;
}

Vars StageState::vars() const {
  Vars v = args;
  for (const auto& e : config.config.env) {
    auto eq = e.find('=');
    std::string name = e.substr(0, eq);
    if (!args_over_env.count(name)) v[name] = eq == std::string::npos ? "" : e.substr(eq + 1);
  }
  return v;
}

std::vector<std::string> stage_shell(const StageState& st) {
  return st.config.config.shell.empty() ? std::vector<std::string>{"/bin/sh", "-c"} : st.config.config.shell;
}

}  // namespace kiln::builder
