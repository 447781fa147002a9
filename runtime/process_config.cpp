// Process configuration rules.
#include "runtime/process_config.h"

#include <cstdlib>

namespace kiln::runtime {

Result<std::vector<std::string>> resolve_args(const oci::RunConfig& image, const ProcessOverrides& o) {
  std::vector<std::string> args;
  if (o.entrypoint) {
    if (!o.entrypoint->empty()) args.push_back(*o.entrypoint);
  } else if (image.entrypoint) {
    args = *image.entrypoint;
  }
  if (!o.cmd.empty())
    args.insert(args.end(), o.cmd.begin(), o.cmd.end());
  else if (!o.entrypoint && image.cmd)
    args.insert(args.end(), image.cmd->begin(), image.cmd->end());
  if (args.empty())
    return make_error(ErrorCode::invalid_argument,
                      "no command specified: the image has no Entrypoint or Cmd, give one after the image name");
  return args;
}

std::optional<std::string> get_env(const std::vector<std::string>& env, const std::string& key) {
  for (const auto& e : env)
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=')
      return e.substr(key.size() + 1);
  return std::nullopt;
}

void set_env(std::vector<std::string>& env, const std::string& key, const std::string& value) {
  for (auto& e : env)
    if ((e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=') || e == key) {
      e = key + "=" + value;
      return;
    }
  env.push_back(key + "=" + value);
}

std::vector<std::string> resolve_env(const oci::RunConfig& image, const std::vector<std::string>& overrides) {
  std::vector<std::string> env;
  for (const auto& e : image.env) {
    auto eq = e.find('=');
    set_env(env, e.substr(0, eq), eq == std::string::npos ? "" : e.substr(eq + 1));
  }
  if (!get_env(env, "PATH")) set_env(env, "PATH", kDefaultPath);
  for (const auto& o : overrides) {
    auto eq = o.find('=');
    if (eq == std::string::npos) {
      // docker: `-e KEY` takes the host's value, and sets nothing if the host has none.
      if (const char* v = ::getenv(o.c_str())) set_env(env, o, v);
      continue;
    }
    set_env(env, o.substr(0, eq), o.substr(eq + 1));
  }
  return env;
}

Result<std::vector<std::string>> parse_env_file(const std::string& text, const std::string& path) {
  std::vector<std::string> out;
  size_t line_no = 0, pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    size_t a = line.find_first_not_of(" \t\r");
    if (a == std::string::npos || line[a] == '#') {
      if (end == text.size()) break;
      continue;
    }
    line = line.substr(a);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t') &&
           line.find('=') == std::string::npos)
      line.pop_back();
    auto eq = line.find('=');
    std::string key = line.substr(0, eq);
    if (key.empty() || key.find_first_of(" \t") != std::string::npos)
      return make_error(ErrorCode::invalid_argument,
                        path + ":" + std::to_string(line_no) + ": invalid variable name \"" + key + "\"");
    out.push_back(line);
    if (end == text.size()) break;
  }
  return out;
}

}  // namespace kiln::runtime
