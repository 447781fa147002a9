// RUN helpers: mount flags and argv.
#include "builder/run_step.h"

#include <sstream>

#include "common/number.h"

namespace kiln::builder {

Result<RunMount> parse_run_mount(const std::string& spec, const std::string& where) {
  RunMount m;
  std::stringstream in(spec);
  std::string kv;
  bool rw = false;
  while (std::getline(in, kv, ',')) {
    auto eq = kv.find('=');
    std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : kv.substr(eq + 1);
    if (k == "type")
      m.type = v;
    else if (k == "target" || k == "dst" || k == "destination")
      m.target = v;
    else if (k == "source" || k == "src")
      m.source = v;
    else if (k == "from")
      m.from = v;
    else if (k == "id")
      m.id = v;
    else if (k == "ro" || k == "readonly")
      rw = !(v.empty() || v == "true");
    else if (k == "rw" || k == "readwrite")
      rw = v.empty() || v == "true";
    else if (k == "sharing")
      m.sharing = v;
    else if (k == "mode") {
      if (!parse_uint(v, 07777) || v.find_first_not_of("01234567") != std::string::npos)
        return make_error(ErrorCode::invalid_argument, where + ": RUN --mount: mode=" + v + " is not an octal mode");
      m.mode = v;
    } else if (k == "uid" || k == "gid") {
      auto id = parse_uint(v, kMaxId);
      if (!id)
        return make_error(ErrorCode::invalid_argument, where + ": RUN --mount: " + k + "=" + v + " is not a numeric id");
      (k == "uid" ? m.uid : m.gid) = static_cast<uint32_t>(*id);
    }
    else if (k == "required")
      m.required = v.empty() || v == "true";
    else if (k == "size")
      continue;
    else
      return make_error(ErrorCode::invalid_argument, where + ": RUN --mount: unknown option " + k);
  }
  if (m.type != "bind" && m.type != "cache" && m.type != "tmpfs" && m.type != "secret")
    return make_error(ErrorCode::invalid_argument,
                      where + ": RUN --mount: type must be bind, cache, tmpfs or secret, not " + m.type);
  if (m.type == "secret") {
    if (m.id.empty()) m.id = m.target.empty() ? "" : m.target.substr(m.target.rfind('/') + 1);
    if (m.id.empty()) return make_error(ErrorCode::invalid_argument, where + ": RUN --mount=type=secret needs an id");
    if (m.target.empty()) m.target = "/run/secrets/" + m.id;
  }
  if (m.target.empty()) return make_error(ErrorCode::invalid_argument, where + ": RUN --mount needs a target");
  if (m.type == "cache" && m.id.empty()) m.id = m.target;
  if (m.sharing != "shared" && m.sharing != "private" && m.sharing != "locked")
    return make_error(ErrorCode::invalid_argument, where + ": RUN --mount: sharing must be shared, private or locked");
  m.readonly = m.type == "bind" ? !rw : m.type == "secret";
  return m;
}

std::vector<std::string> run_argv(const Instruction& ins, const std::vector<std::string>& shell, std::string& script,
                                  const std::string& script_path) {
  if (ins.json) return ins.json_args;
  std::vector<std::string> argv = shell;
  std::string args = ins.args;
  size_t a = args.find_first_not_of(" \t");
  args = a == std::string::npos ? "" : args.substr(a);
  if (!ins.heredocs.empty() && args.rfind("<<", 0) == 0 && args.find_first_of(" \t") == std::string::npos &&
      ins.heredocs.size() == 1) {
    // RUN <<EOF: the heredoc is the script; a shebang picks its interpreter.
    script = ins.heredocs[0].content;
    if (script.rfind("#!", 0) == 0) return {script_path};
    argv.push_back(script);
    return argv;
  }
  // RUN cmd <<EOF: the shell reads the heredoc itself.
  std::string text = args;
  for (const auto& h : ins.heredocs) text += "\n" + h.content + h.name;
  argv.push_back(text);
  return argv;
}

}  // namespace kiln::builder
