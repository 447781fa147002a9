// Run flag parsing.
#include "runtime/options.h"

#include <arpa/inet.h>
#include <sys/resource.h>

#include <cctype>
#include <map>
#include <sstream>
#include <vector>

#include "common/number.h"

namespace kiln::runtime {

namespace {
std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, sep)) out.push_back(part);
  if (!s.empty() && s.back() == sep) out.push_back("");
  return out;
}
}  // namespace

Status check_target(const std::string& t) {
  if (t.empty() || t[0] != '/')
    return make_error(ErrorCode::invalid_argument, "mount target \"" + t + "\" must be an absolute path");
  for (const auto& c : split(t, '/'))
    if (c == "..") return make_error(ErrorCode::invalid_argument, "mount target \"" + t + "\" must not contain \"..\"");
  std::string norm = t;
  while (norm.size() > 1 && norm.back() == '/') norm.pop_back();
  for (const char* bad : {"/proc", "/sys"})
    if (norm == bad || norm.rfind(std::string(bad) + "/", 0) == 0)
      return make_error(ErrorCode::invalid_argument,
                        "mount target \"" + t + "\" is under " + bad + ", which kiln refuses");
  if (norm == "/") return make_error(ErrorCode::invalid_argument, "cannot mount over the container's root");
  return {};
}

Result<MountSpec> parse_volume(const std::string& v) {
  auto parts = split(v, ':');
  if (parts.size() < 2 || parts.size() > 3)
    return make_error(ErrorCode::invalid_argument, "invalid volume \"" + v + "\": use HOST:CONTAINER[:ro]");
  MountSpec m;
  m.type = MountSpec::Type::bind;
  m.source = parts[0];
  m.target = parts[1];
  if (m.source.empty() || m.source[0] != '/')
    return make_error(ErrorCode::invalid_argument,
                      "invalid volume \"" + v + "\": the host path must be absolute (named volumes are not supported)");
  if (parts.size() == 3) {
    for (const auto& o : split(parts[2], ',')) {
      if (o == "ro")
        m.readonly = true;
      else if (o == "rw" || o == "z" || o == "Z" || o.empty())
        continue;
      else
        return make_error(ErrorCode::invalid_argument, "invalid volume \"" + v + "\": unknown option " + o);
    }
  }
  TRY_CTX(check_target(m.target), "invalid volume \"" + v + "\"");
  return m;
}

Result<MountSpec> parse_mount(const std::string& v) {
  MountSpec m;
  std::string type = "volume";
  std::vector<std::string> tmpfs_opts;
  for (const auto& kv : split(v, ',')) {
    auto eq = kv.find('=');
    std::string k = kv.substr(0, eq), val = eq == std::string::npos ? "" : kv.substr(eq + 1);
    if (k == "type")
      type = val;
    else if (k == "source" || k == "src")
      m.source = val;
    else if (k == "target" || k == "destination" || k == "dst")
      m.target = val;
    else if (k == "readonly" || k == "ro")
      m.readonly = val.empty() || val == "true" || val == "1";
    else if (k == "tmpfs-size")
      tmpfs_opts.push_back("size=" + val);
    else if (k == "tmpfs-mode")
      tmpfs_opts.push_back("mode=" + val);
    else if (k == "bind-propagation" || k == "consistency")
      continue;
    else
      return make_error(ErrorCode::invalid_argument, "invalid --mount \"" + v + "\": unknown field " + k);
  }
  if (type == "bind") {
    m.type = MountSpec::Type::bind;
    if (m.source.empty() || m.source[0] != '/')
      return make_error(ErrorCode::invalid_argument, "invalid --mount \"" + v + "\": a bind needs an absolute source");
  } else if (type == "tmpfs") {
    m.type = MountSpec::Type::tmpfs;
    for (size_t i = 0; i < tmpfs_opts.size(); ++i) m.options += (i ? "," : "") + tmpfs_opts[i];
  } else {
    return make_error(ErrorCode::invalid_argument, "invalid --mount \"" + v + "\": type must be bind or tmpfs");
  }
  TRY_CTX(check_target(m.target), "invalid --mount \"" + v + "\"");
  return m;
}

Result<MountSpec> parse_tmpfs(const std::string& v) {
  MountSpec m;
  m.type = MountSpec::Type::tmpfs;
  auto colon = v.find(':');
  m.target = v.substr(0, colon);
  std::string given = colon == std::string::npos ? "" : v.substr(colon + 1);
  // docker mixes mount-flag words with tmpfs data: the words become flags (nosuid and nodev always hold),
  // the rest goes to the kernel.
  for (const auto& o : split(given, ',')) {
    if (o.empty()) continue;
    auto eq = o.find('=');
    std::string k = o.substr(0, eq);
    if (k == "ro" || k == "rw") {
      m.readonly = k == "ro";
    } else if (k == "exec" || k == "noexec") {
      m.noexec = k == "noexec";
    } else if (k == "nosuid" || k == "nodev") {
      continue;
    } else if (k == "size" || k == "mode" || k == "uid" || k == "gid" || k == "nr_inodes") {
      m.options += (m.options.empty() ? "" : ",") + o;
    } else {
      return make_error(ErrorCode::invalid_argument, "invalid --tmpfs \"" + v + "\": unknown option " + k);
    }
  }
  TRY_CTX(check_target(m.target), "invalid --tmpfs \"" + v + "\"");
  return m;
}

Result<int64_t> parse_bytes(const std::string& v) {
  if (v.empty() || !std::isdigit(static_cast<unsigned char>(v[0])))
    return make_error(ErrorCode::invalid_argument,
                      "invalid size \"" + v + "\": use a number with an optional unit b, k, m, g");
  size_t pos = v.find_first_not_of("0123456789.");
  auto n = parse_double(v.substr(0, pos));
  if (!n) return make_error(ErrorCode::invalid_argument, "invalid size \"" + v + "\": not a number");
  std::string unit = pos == std::string::npos ? "" : v.substr(pos);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'b' && unit.size() == 2) unit.pop_back();
  static const std::map<std::string, double> mult = {
      {"", 1}, {"b", 1}, {"k", 1024.0}, {"m", 1024.0 * 1024}, {"g", 1024.0 * 1024 * 1024}};
  auto it = mult.find(unit);
  if (it == mult.end())
    return make_error(ErrorCode::invalid_argument, "invalid size \"" + v + "\": unknown unit " + unit);
  double bytes = *n * it->second;
  if (bytes >= 9.2e18) return make_error(ErrorCode::invalid_argument, "invalid size \"" + v + "\": too large");
  return static_cast<int64_t>(bytes);
}

Result<Rlimit> parse_ulimit(const std::string& v) {
  static const std::map<std::string, int> names = {{"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
                                                   {"data", RLIMIT_DATA},         {"fsize", RLIMIT_FSIZE},
                                                   {"locks", RLIMIT_LOCKS},       {"memlock", RLIMIT_MEMLOCK},
                                                   {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
                                                   {"nofile", RLIMIT_NOFILE},     {"nproc", RLIMIT_NPROC},
                                                   {"rss", RLIMIT_RSS},           {"rtprio", RLIMIT_RTPRIO},
                                                   {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
                                                   {"stack", RLIMIT_STACK},       {"as", RLIMIT_AS}};
  auto eq = v.find('=');
  if (eq == std::string::npos)
    return make_error(ErrorCode::invalid_argument, "invalid --ulimit \"" + v + "\": use NAME=SOFT[:HARD]");
  auto it = names.find(v.substr(0, eq));
  if (it == names.end())
    return make_error(ErrorCode::invalid_argument, "invalid --ulimit \"" + v + "\": unknown limit " + v.substr(0, eq));
  auto parse = [&](const std::string& s) -> Result<uint64_t> {
    if (s == "unlimited" || s == "-1") return static_cast<uint64_t>(RLIM_INFINITY);
    auto n = parse_uint(s, RLIM_INFINITY - 1);
    if (!n)
      return make_error(ErrorCode::invalid_argument,
                        "invalid --ulimit \"" + v + "\": \"" + s + "\" is not a number below 2^64-1");
    return *n;
  };
  std::string vals = v.substr(eq + 1);
  auto colon = vals.find(':');
  Rlimit r;
  r.resource = it->second;
  r.soft = TRY(parse(vals.substr(0, colon)));
  r.hard = colon == std::string::npos ? r.soft : TRY(parse(vals.substr(colon + 1)));
  if (r.soft > r.hard)
    return make_error(ErrorCode::invalid_argument, "invalid --ulimit \"" + v + "\": soft limit exceeds hard limit");
  return r;
}

namespace {

bool is_ip_address(const std::string& s) {
  unsigned char buf[sizeof(struct in6_addr)];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

Result<std::string> parse_add_host(const std::string& v) {
  size_t sep = v.find_first_of(":=");
  std::string name = sep == std::string::npos ? v : v.substr(0, sep);
  std::string ip = sep == std::string::npos ? "" : v.substr(sep + 1);
  if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);  // [::1]
  bool name_ok = !name.empty() && name.find_first_of(" \t\n#") == std::string::npos;
  if (!name_ok || !is_ip_address(ip))
    return make_error(ErrorCode::invalid_argument, "invalid --add-host \"" + v + "\": use NAME:IP (e.g. db:10.0.0.5)");
  return ip + "\t" + name;
}

Result<std::string> parse_dns_search(const std::string& v) {
  if (v.empty() || v.find_first_of(" \t\n#;") != std::string::npos)
    return make_error(ErrorCode::invalid_argument, "invalid --dns-search \"" + v + "\": use a domain name");
  return v;
}

Result<std::string> parse_dns_server(const std::string& v) {
  if (!is_ip_address(v))
    return make_error(ErrorCode::invalid_argument, "invalid --dns \"" + v + "\": use an IPv4 or IPv6 address");
  return v;
}

}  // namespace kiln::runtime
