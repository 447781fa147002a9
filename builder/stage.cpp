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
std::string nlohmann_free_join(const std::vector<std::string>& v) { return json_text(nlohmann::json(v)); }
std::vector<std::string> nlohmann_parse_array(const std::string& s) {
  return parse_json(s).get<std::vector<std::string>>();
}
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
      if (words.size() == 3 && lower(words[1]) == "as")
        s.name = lower(words[2]);
      else if (words.size() != 1)
        return make_error(ErrorCode::invalid_argument,
                          where(bf, ins) + ": FROM expects IMAGE [AS NAME], found \"" + ins.args + "\"");
      s.base = words[0];
      if (auto p = flag_value(ins, "platform")) s.platform = TRY(expand_word(*p, global_args, bf.escape));
      for (const auto& f : ins.flags)
        if (f.rfind("--platform", 0) != 0)
          return make_error(ErrorCode::invalid_argument, where(bf, ins) + ": unknown flag " + f + " for FROM");
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
      for (const auto& d : TRY_CTX(parse_arg_decls(ins.args, global_args, bf.escape), where(bf, ins))) {
        if (auto it = build_args.find(d.name); it != build_args.end())
          global_args[d.name] = it->second;
        else if (d.value)
          global_args[d.name] = *d.value;
      }
      continue;
    }
    Stage& s = stages.back();
    s.steps.push_back(&ins);
  }
  if (stages.empty())
    return make_error(ErrorCode::invalid_argument, bf.path + ": the Buildfile contains no stages to build (no FROM)");
  // The stages a step reads: COPY/ADD --from and RUN --mount from=, by name or index, earlier or later in the
  // file (BuildKit takes a later one too); a stage that reaches itself is a cycle.
  for (auto& s : stages)
    for (const Instruction* ins : s.steps) {
      std::vector<std::string> froms;
      if (auto from = flag_value(*ins, "from"); from && (ins->keyword == "COPY" || ins->keyword == "ADD"))
        froms.push_back(*from);
      if (ins->keyword == "RUN")
        for (const auto& spec : flag_values(*ins, "mount")) {
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

namespace {

/// Go-style durations: 30s, 1m30s, 500ms, 1h.
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

std::vector<std::string> command_of(const Instruction& ins, const StageState& st) {
  if (ins.json) return ins.json_args;
  auto sh = stage_shell(st);
  sh.push_back(ins.args);
  return sh;
}

}  // namespace

Result<std::string> apply_metadata(const Instruction& ins, StageState& st, const Vars& build_args,
                                   const Vars& global_args, char escape, const std::string& where) {
  auto& rc = st.config.config;
  const std::string& k = ins.keyword;
  Vars vars = st.vars();
  auto ctx = [&](Error e) { return e.context(where); };
  if (k == "ENV") {
    auto kvs = parse_key_values(ins.args, vars, escape);
    if (!kvs) return ctx(std::move(kvs).error());
    std::string canon;
    for (const auto& [key, value] : *kvs) {
      bool replaced = false;
      for (auto& e : rc.env)
        if (e.rfind(key + "=", 0) == 0) {
          e = key + "=" + value;
          replaced = true;
        }
      if (!replaced) rc.env.push_back(key + "=" + value);
      st.args_over_env.erase(key);
      canon += key + "=" + value + "\n";
    }
    return "ENV " + canon;
  }
  if (k == "ARG") {
    auto decls = parse_arg_decls(ins.args, vars, escape);
    if (!decls) return ctx(std::move(decls).error());
    std::string canon;
    for (const auto& d : *decls) {
      if (auto it = build_args.find(d.name); it != build_args.end())
        st.args[d.name] = it->second;
      else if (d.value)
        st.args[d.name] = *d.value;
      else if (auto g = global_args.find(d.name); g != global_args.end())
        st.args[d.name] = g->second;
      if (st.args.count(d.name)) st.args_over_env.insert(d.name);
      canon += (canon.empty() ? "" : " ") + (st.args.count(d.name) ? d.name + "=" + st.args[d.name] : d.name);
    }
    return "ARG " + canon;
  }
  if (k == "LABEL") {
    auto kvs = parse_key_values(ins.args, vars, escape, false);
    if (!kvs) return ctx(std::move(kvs).error());
    std::string canon;
    for (const auto& [key, value] : *kvs) {
      rc.labels[key] = value;
      canon += key + "=" + value + "\n";
    }
    return "LABEL " + canon;
  }
  if (k == "MAINTAINER") {
    st.config.author = ins.args;
    return "MAINTAINER " + ins.args;
  }
  if (k == "EXPOSE") {
    auto ports = expand_words(ins.args, vars, escape);
    if (!ports) return ctx(std::move(ports).error());
    auto add = [&rc](const std::string& p) {
      if (std::find(rc.exposed_ports.begin(), rc.exposed_ports.end(), p) == rc.exposed_ports.end())
        rc.exposed_ports.push_back(p);
    };
    for (auto p : *ports) {
      std::string proto = "tcp";
      if (auto slash = p.find('/'); slash != std::string::npos) {
        proto = p.substr(slash + 1);
        p = p.substr(0, slash);
      }
      // A range (8000-8002) is every port in it, as docker lists them.
      auto dash = p.find('-');
      auto lo = parse_uint(p.substr(0, dash), 65535);
      auto hi = dash == std::string::npos ? lo : parse_uint(p.substr(dash + 1), 65535);
      if (!lo || !hi || *hi < *lo)
        return make_error(ErrorCode::invalid_argument, where + ": EXPOSE: invalid port \"" + p + "\"");
      for (uint64_t n = *lo; n <= *hi; ++n) add(std::to_string(n) + "/" + proto);
    }
    return "EXPOSE " + ins.args;
  }
  if (k == "VOLUME") {
    std::vector<std::string> vols;
    if (ins.json)
      vols = ins.json_args;
    else {
      auto w = expand_words(ins.args, vars, escape);
      if (!w) return ctx(std::move(w).error());
      vols = *w;
    }
    for (const auto& v : vols)
      if (std::find(rc.volumes.begin(), rc.volumes.end(), v) == rc.volumes.end()) rc.volumes.push_back(v);
    return "VOLUME " + ins.args;
  }
  if (k == "USER") {
    auto u = expand_word(ins.args, vars, escape);
    if (!u) return ctx(std::move(u).error());
    rc.user = *u;
    return "USER " + *u;
  }
  if (k == "STOPSIGNAL") {
    auto s = expand_word(ins.args, vars, escape);
    if (!s) return ctx(std::move(s).error());
    rc.stop_signal = *s;
    return "STOPSIGNAL " + *s;
  }
  if (k == "CMD") {
    rc.cmd = command_of(ins, st);
    rc.args_escaped = true;  // as BuildKit (docker 20.10) marks every image with a CMD or ENTRYPOINT
    st.cmd_set = true;
    return "CMD " + nlohmann_free_join(*rc.cmd);
  }
  if (k == "ENTRYPOINT") {
    rc.entrypoint = command_of(ins, st);
    if (!st.cmd_set) rc.cmd.reset();  // an inherited CMD does not survive a new ENTRYPOINT
    return "ENTRYPOINT " + nlohmann_free_join(*rc.entrypoint);
  }
  if (k == "SHELL") {
    if (!ins.json || ins.json_args.empty())
      return make_error(ErrorCode::invalid_argument,
                        where + ": SHELL requires the JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"]");
    rc.shell = ins.json_args;
    return "SHELL " + nlohmann_free_join(rc.shell);
  }
  if (k == "ONBUILD") {
    std::string trigger = ins.args;
    std::string kw = trigger.substr(0, trigger.find_first_of(" \t"));
    for (auto& c : kw) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (kw == "ONBUILD" || kw == "FROM" || kw == "MAINTAINER")
      return make_error(ErrorCode::invalid_argument, where + ": ONBUILD " + kw + " is not allowed");
    rc.on_build.push_back(trigger);
    return "ONBUILD " + trigger;
  }
  if (k == "HEALTHCHECK") {
    std::string rest = ins.args;
    std::string first = rest.substr(0, rest.find_first_of(" \t"));
    for (auto& c : first) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    oci::Healthcheck hc;
    if (first == "NONE") {
      hc.test = {"NONE"};
    } else if (first == "CMD") {
      std::string cmd = rest.substr(3);
      size_t a = cmd.find_first_not_of(" \t");
      cmd = a == std::string::npos ? "" : cmd.substr(a);
      if (cmd.empty()) return make_error(ErrorCode::invalid_argument, where + ": HEALTHCHECK CMD needs a command");
      if (cmd[0] == '[') {
        try {
          auto j = nlohmann_parse_array(cmd);
          hc.test = {"CMD"};
          hc.test.insert(hc.test.end(), j.begin(), j.end());
        } catch (...) {
          hc.test = {"CMD-SHELL", cmd};
        }
      } else {
        hc.test = {"CMD-SHELL", cmd};
      }
      for (const auto& f : ins.flags) {
        auto eq = f.find('=');
        std::string name = f.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
        std::string val = eq == std::string::npos ? "" : f.substr(eq + 1);
        if (name == "interval")
          hc.interval = TRY(parse_duration(val, where));
        else if (name == "timeout")
          hc.timeout = TRY(parse_duration(val, where));
        else if (name == "start-period")
          hc.start_period = TRY(parse_duration(val, where));
        else if (name == "start-interval")
          hc.start_interval = TRY(parse_duration(val, where));
        else if (name == "retries")
          if (auto n = parse_int(val, INT32_MIN, INT32_MAX))
            hc.retries = static_cast<int>(*n);
          else
            return make_error(ErrorCode::invalid_argument, where + ": invalid HEALTHCHECK --retries \"" + val + "\"");
        else
          return make_error(ErrorCode::invalid_argument, where + ": unknown HEALTHCHECK flag --" + name);
      }
    } else {
      return make_error(ErrorCode::invalid_argument, where + ": HEALTHCHECK expects NONE or [OPTIONS] CMD command");
    }
    rc.healthcheck = hc;
    return "HEALTHCHECK " + nlohmann_free_join(hc.test);
  }
  return make_error(ErrorCode::invalid_argument, where + ": " + k + " is not a metadata instruction");
}

}  // namespace kiln::builder
