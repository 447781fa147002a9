// The instructions that change only the image config: ENV, ARG, LABEL, MAINTAINER, EXPOSE, VOLUME, USER,
// STOPSIGNAL, CMD, ENTRYPOINT, SHELL, ONBUILD, HEALTHCHECK.
#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "builder/history.h"
#include "builder/stage.h"
#include "common/json.h"
#include "common/number.h"

namespace kiln::builder {

namespace {

std::string json_array(const std::vector<std::string>& v) { return json_text(nlohmann::json(v)); }

std::vector<std::string> command_of(const Instruction& ins, const StageState& st) {
  if (ins.json) return ins.json_args;
  auto sh = stage_shell(st);
  sh.push_back(ins.args);
  return sh;
}

}  // namespace

Result<MetadataStep> apply_metadata(const Step& step, StageState& st, const Vars& build_args, const Vars& global_args,
                                    char escape, const std::string& where) {
  const Instruction& ins = *step.ins;
  auto& rc = st.config.config;
  const std::string& k = ins.keyword;
  Vars vars = st.vars();
  auto ctx = [&](Error e) { return e.context(where); };
  if (k == "ENV") {
    auto kvs = parse_key_values(ins.args, vars, escape);
    if (!kvs) return ctx(std::move(kvs).error());
    std::string canon, shown = "ENV";
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
      shown += " " + key + "=" + value;
    }
    return MetadataStep{"ENV " + canon, shown};
  }
  if (k == "ARG") {
    auto decls = parse_arg_decls(ins.args, vars, escape);
    if (!decls) return ctx(std::move(decls).error());
    std::string canon, shown;
    for (const auto& d : *decls) {
      if (auto it = build_args.find(d.name); it != build_args.end())
        st.args[d.name] = it->second;
      else if (d.value)
        st.args[d.name] = *d.value;
      else if (auto g = global_args.find(d.name); g != global_args.end())
        st.args[d.name] = g->second;
      if (st.args.count(d.name)) st.args_over_env.insert(d.name);
      canon += (canon.empty() ? "" : " ") + (st.args.count(d.name) ? d.name + "=" + st.args[d.name] : d.name);
      shown += " " + d.name + (d.value ? "=" + *d.value : "");  // the Buildfile's default, not the value used
      st.declared_args.push_back(d.name);
    }
    return MetadataStep{"ARG " + canon, "ARG" + shown};
  }
  if (k == "LABEL") {
    auto kvs = parse_key_values(ins.args, vars, escape);
    if (!kvs) return ctx(std::move(kvs).error());
    std::string canon, shown = "LABEL";
    for (const auto& [key, value] : *kvs) {
      rc.labels[key] = value;
      canon += key + "=" + value + "\n";
      shown += " " + key + "=" + value;
    }
    return MetadataStep{"LABEL " + canon, shown};
  }
  if (k == "MAINTAINER") {
    st.config.author = ins.args;
    return MetadataStep{"MAINTAINER " + ins.args, "MAINTAINER " + ins.args};
  }
  if (k == "EXPOSE") {
    auto ports = expand_words(ins.args, vars, escape);
    if (!ports) return ctx(std::move(ports).error());
    std::vector<std::string> named;
    auto add = [&rc, &named](const std::string& p) {
      named.push_back(p);
      if (std::find(rc.exposed_ports.begin(), rc.exposed_ports.end(), p) == rc.exposed_ports.end())
        rc.exposed_ports.push_back(p);
    };
    for (auto p : *ports) {
      std::string proto = "tcp";
      if (auto slash = p.find('/'); slash != std::string::npos) {
        proto = p.substr(slash + 1);  // 80/TCP is 80/tcp, as docker's port parser writes it
        for (auto& c : proto) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
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
    return MetadataStep{"EXPOSE " + ins.args, expose_history(named)};
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
    return MetadataStep{"VOLUME " + ins.args, "VOLUME " + go_list(vols)};
  }
  if (k == "USER") {
    auto u = expand_word(ins.args, vars, escape);
    if (!u) return ctx(std::move(u).error());
    rc.user = *u;
    return MetadataStep{"USER " + *u, "USER " + *u};
  }
  if (k == "STOPSIGNAL") {
    auto s = expand_word(ins.args, vars, escape);
    if (!s) return ctx(std::move(s).error());
    rc.stop_signal = *s;
    return MetadataStep{"STOPSIGNAL " + *s, "STOPSIGNAL " + *s};
  }
  if (k == "CMD") {
    rc.cmd = command_of(ins, st);
    rc.args_escaped = true;  // as BuildKit (docker 20.10) marks every image with a CMD or ENTRYPOINT
    st.cmd_set = true;
    return MetadataStep{"CMD " + json_array(*rc.cmd), "CMD " + go_quote_list(*rc.cmd)};
  }
  if (k == "ENTRYPOINT") {
    rc.entrypoint = command_of(ins, st);
    if (!st.cmd_set) rc.cmd.reset();  // an inherited CMD does not survive a new ENTRYPOINT
    return MetadataStep{"ENTRYPOINT " + json_array(*rc.entrypoint), "ENTRYPOINT " + go_quote_list(*rc.entrypoint)};
  }
  if (k == "SHELL") {  // the JSON form, checked by parse_command
    rc.shell = ins.json_args;
    return MetadataStep{"SHELL " + json_array(rc.shell), "SHELL " + go_list(rc.shell)};
  }
  if (k == "ONBUILD") {  // the trigger's keyword, checked by parse_command
    const std::string& trigger = ins.args;
    rc.on_build.push_back(trigger);
    return MetadataStep{"ONBUILD " + trigger, std::nullopt};  // BuildKit writes no history for ONBUILD
  }
  if (auto* hc = std::get_if<HealthcheckCmd>(&step.cmd)) {
    rc.healthcheck = hc->check;
    return MetadataStep{"HEALTHCHECK " + json_array(hc->check.test), healthcheck_history(hc->check)};
  }
  return make_error(ErrorCode::invalid_argument, where + ": " + k + " is not a metadata instruction");
}

}  // namespace kiln::builder
