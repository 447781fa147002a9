// Credential files and helpers.
#include "oci/credentials.h"

#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cas/store.h"
#include "common/fd.h"
#include "common/identity.h"
#include "common/json.h"

namespace kiln::oci {

std::string base64_encode(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  while (i + 2 < in.size()) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
    i += 3;
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

std::string base64_decode(const std::string& in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = val(c);
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string auth_file() {
  if (const char* f = ::getenv("REGISTRY_AUTH_FILE"); f && *f) return f;
  if (const char* x = ::getenv("XDG_RUNTIME_DIR"); x && *x) return std::string(x) + "/containers/auth.json";
  // An ordinary user without a runtime directory (no login session): in the home, as podman keeps it there.
  if (const char* home = ::getenv("HOME"); home && *home && rootless())
    return std::string(home) + "/.config/containers/auth.json";
  return "/run/containers/" + std::to_string(host_uid()) + "/auth.json";
}

namespace {

std::string hostkey(const std::string& host) { return host == "docker.io" ? "https://index.docker.io/v1/" : host; }

std::optional<Credentials> from_auths(const nlohmann::json& j, const std::string& host) {
  if (!j.contains("auths") || !j["auths"].is_object()) return std::nullopt;
  for (const auto& key : {host, hostkey(host), "https://" + host, "http://" + host}) {
    if (!j["auths"].contains(key)) continue;
    std::string a = j["auths"][key].value("auth", "");
    std::string dec = base64_decode(a);
    auto colon = dec.find(':');
    if (colon == std::string::npos) continue;
    return Credentials{dec.substr(0, colon), dec.substr(colon + 1)};
  }
  return std::nullopt;
}

std::optional<Credentials> from_helper(const std::string& helper, const std::string& host) {
  int in[2], out[2];
  if (::pipe(in) < 0 || ::pipe(out) < 0) return std::nullopt;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::close(in[1]);
    ::close(out[0]);
    std::string prog = "docker-credential-" + helper;
    ::execlp(prog.c_str(), prog.c_str(), "get", nullptr);
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  std::string server = hostkey(host);
  (void)write_all(in[1], server);
  ::close(in[1]);
  auto text = read_fd(out[0], 1 << 20);
  ::close(out[0]);
  int st;
  ::waitpid(pid, &st, 0);
  if (!text || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return std::nullopt;
  try {
    auto j = parse_json(*text);
    return Credentials{j.value("Username", ""), j.value("Secret", "")};
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

nlohmann::json load(const std::string& path) {
  auto text = read_file(path);
  if (!text) return nlohmann::json::object();
  try {
    auto j = parse_json(*text);
    return j.is_object() ? j : nlohmann::json::object();
  } catch (const nlohmann::json::exception&) {
    return nlohmann::json::object();
  }
}

}  // namespace

std::optional<Credentials> find_credentials(const std::string& host) {
  if (auto c = from_auths(load(auth_file()), host)) return c;
  const char* home = ::getenv("HOME");
  std::string docker = std::string(::getenv("DOCKER_CONFIG") ? ::getenv("DOCKER_CONFIG")
                                                             : (home ? std::string(home) + "/.docker" : "")) +
                       "/config.json";
  auto j = load(docker);
  if (j.contains("credHelpers") && j["credHelpers"].contains(host))
    if (auto c = from_helper(j["credHelpers"][host].get<std::string>(), host)) return c;
  if (auto c = from_auths(j, host)) return c;
  if (j.contains("credsStore") && j["credsStore"].is_string())
    return from_helper(j["credsStore"].get<std::string>(), host);
  return std::nullopt;
}

Status store_credentials(const std::string& host, const Credentials& c) {
  std::string path = auth_file();
  TRY(make_dirs(path.substr(0, path.rfind('/')), 0700));
  auto j = load(path);
  j["auths"][host] = {{"auth", base64_encode(c.username + ":" + c.password)}};
  TRY(cas::write_file_atomic(path, json_text(j, 1)));
  ::chmod(path.c_str(), 0600);
  return {};
}

Status remove_credentials(const std::string& host) {
  std::string path = auth_file();
  auto j = load(path);
  if (!j.contains("auths") || !j["auths"].contains(host))
    return make_error(ErrorCode::not_found, "not logged in to " + host);
  j["auths"].erase(host);
  return cas::write_file_atomic(path, json_text(j, 1));
}

}  // namespace kiln::oci
