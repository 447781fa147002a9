// -p/-P parsing, free host ports, and pasta's start and end.
#include "runtime/publish.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "common/fd.h"
#include "common/identity.h"
#include "common/number.h"
#include "common/strings.h"

namespace kiln::runtime {

namespace {

Error bad_spec(const std::string& spec, const std::string& why) {
  return make_error(ErrorCode::invalid_argument, "invalid -p \"" + spec + "\": " + why +
                                                     " (use [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp], as docker)");
}

/// "80" or "8000-8002": the first port and how many.
Result<std::pair<uint16_t, uint16_t>> port_range(const std::string& text, const std::string& spec) {
  auto dash = text.find('-');
  auto lo = parse_uint(text.substr(0, dash), 65535);
  auto hi = dash == std::string::npos ? lo : parse_uint(text.substr(dash + 1), 65535);
  if (!lo || !hi || *lo == 0 || *hi < *lo) return bad_spec(spec, "\"" + text + "\" is not a port or a port range");
  return std::pair<uint16_t, uint16_t>{static_cast<uint16_t>(*lo), static_cast<uint16_t>(*hi - *lo + 1)};
}

bool valid_ip(const std::string& ip) {
  unsigned char buf[sizeof(struct in6_addr)];
  return ::inet_pton(AF_INET, ip.c_str(), buf) == 1 || ::inet_pton(AF_INET6, ip.c_str(), buf) == 1;
}

/// pasta's spec for one protocol: "8080:80,127.0.0.1/8081:81", or "none".
std::string pasta_spec(const std::vector<PublishedPort>& ports, const std::string& proto) {
  std::string out;
  for (const auto& p : ports) {
    if (p.proto != proto) continue;
    if (!out.empty()) out += ",";
    if (!p.host_ip.empty()) out += p.host_ip + "/";
    out += std::to_string(p.host_port) + ":" + std::to_string(p.container_port);
  }
  return out.empty() ? "none" : out;
}

/// The child's side (after fork: argv is ready, nothing here allocates but on the way to a failure): a private
/// mount namespace where the network namespace (fd 3) has a name pasta can open without reaching into kiln's
/// /proc, then pasta itself.
[[noreturn]] void exec_pasta(int netns, int log, const char* ns_name, char* const* argv, pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  ::setsid();  // the terminal's Ctrl-C is for the container; pasta ends with it
  // kiln's signal mask and handlers are kiln's (it takes signals through a signalfd): pasta starts clean.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
  auto fail = [&](const char* what) {
    std::string line = std::string("kiln: ") + what + ": " + std::strerror(errno) + "\n";
    (void)!::write(log, line.data(), line.size());
    ::_exit(127);
  };
  if (::dup2(log, 2) < 0) fail("dup2");  // first: the log may be fd 3, which the namespace takes next
  log = 2;
  if (::dup2(netns, 3) < 0) fail("dup2");
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(null, 1) < 0) fail("open /dev/null");
  ::close_range(4, ~0U, 0);
  if (::unshare(CLONE_NEWNS) < 0) fail("unshare a mount namespace for pasta");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) fail("make the mounts private");
  if (::mount("/proc/self/fd/3", ns_name, nullptr, MS_BIND, nullptr) < 0) fail("name the network namespace");
  ::close(3);
  ::execvp(argv[0], argv);
  fail("run pasta");
  ::_exit(127);
}

/// The last line pasta (or kiln's child) wrote that says something, for the one error line.
std::string last_words(const std::string& log_path) {
  auto text = read_file(log_path, 64 * 1024);
  if (!text) return "";
  std::string last;
  for (const auto& line : split(*text, '\n'))
    if (!line.empty() && line.find("syslog") == std::string::npos) last = line;
  return last;
}

}  // namespace

Result<std::vector<PublishedPort>> parse_publish(const std::string& spec) {
  std::string s = spec, proto = "tcp";
  if (auto slash = s.rfind('/'); slash != std::string::npos) {
    proto = s.substr(slash + 1);
    s = s.substr(0, slash);
    if (proto != "tcp" && proto != "udp") return bad_spec(spec, "protocol \"" + proto + "\" is not tcp or udp");
  }
  std::string ip;
  if (!s.empty() && s[0] == '[') {  // [::1]:8080:80
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':')
      return bad_spec(spec, "an IPv6 address needs [ADDRESS]:");
    ip = s.substr(1, close - 1);
    s = s.substr(close + 2);
    if (s.find(':') == std::string::npos) s = ":" + s;  // [::1]:80 is an address and the container port
  }
  std::vector<std::string> parts = split(s, ':');
  if (parts.size() > 3 || (parts.size() == 3 && !ip.empty())) return bad_spec(spec, "too many parts");
  if (parts.size() == 3) ip = parts[0];
  if (!ip.empty() && !valid_ip(ip)) return bad_spec(spec, "\"" + ip + "\" is not an IP address");
  std::string host = parts.size() >= 2 ? parts[parts.size() - 2] : "";
  auto [cport, count] = TRY(port_range(parts.back(), spec));
  uint16_t hport = 0;
  if (!host.empty()) {
    auto [h, hcount] = TRY(port_range(host, spec));
    if (hcount != count) return bad_spec(spec, "the host and container port ranges differ in length");
    hport = h;
  }
  std::vector<PublishedPort> out;
  for (uint16_t i = 0; i < count; ++i)
    out.push_back(
        PublishedPort{ip, static_cast<uint16_t>(hport ? hport + i : 0), static_cast<uint16_t>(cport + i), proto});
  return out;
}

Result<std::vector<PublishedPort>> publish_all(const std::vector<std::string>& exposed) {
  std::vector<PublishedPort> out;
  for (const auto& e : exposed) {
    auto ports = parse_publish(e);
    if (!ports) return std::move(ports).error().context("the image's EXPOSE " + e);
    out.insert(out.end(), ports->begin(), ports->end());
  }
  return out;
}

Status choose_host_ports(std::vector<PublishedPort>& ports) {
  for (auto& p : ports) {
    bool v6 = p.host_ip.find(':') != std::string::npos;
    int fd = ::socket(v6 ? AF_INET6 : AF_INET, (p.proto == "udp" ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    if (fd < 0) return sys_error("socket for a free host port");
    UniqueFd sock(fd);
    struct sockaddr_storage ss {};
    socklen_t len;
    if (v6) {
      auto* a = reinterpret_cast<struct sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      ::inet_pton(AF_INET6, p.host_ip.c_str(), &a->sin6_addr);
      len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<struct sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_addr.s_addr = htonl(INADDR_ANY);
      a->sin_port = htons(p.host_port);
      if (!p.host_ip.empty()) ::inet_pton(AF_INET, p.host_ip.c_str(), &a->sin_addr);
      len = sizeof *a;
    }
    if (v6) reinterpret_cast<struct sockaddr_in6*>(&ss)->sin6_port = htons(p.host_port);
    // A port given is tried too: pasta would only warn about one that is taken, and the container would run
    // unreachable.
    if (::bind(fd, reinterpret_cast<struct sockaddr*>(&ss), len) < 0) {
      int e = errno;
      std::string where = (p.host_ip.empty() ? "" : p.host_ip + ":") + std::to_string(p.host_port) + "/" + p.proto;
      if (p.host_port != 0 && e == EADDRINUSE)
        return make_error(ErrorCode::conflict, "host port " + where + " is already in use: publish another one");
      return sys_error("bind host port " + where, e);
    }
    if (::getsockname(fd, reinterpret_cast<struct sockaddr*>(&ss), &len) < 0) return sys_error("getsockname");
    p.host_port = ntohs(v6 ? reinterpret_cast<struct sockaddr_in6*>(&ss)->sin6_port
                           : reinterpret_cast<struct sockaddr_in*>(&ss)->sin_port);
  }
  return {};
}

std::string ports_text(const std::vector<PublishedPort>& ports) {
  std::string out;
  for (const auto& p : ports) {
    if (!out.empty()) out += ", ";
    std::string ip = p.host_ip.empty() ? "0.0.0.0" : p.host_ip;
    if (ip.find(':') != std::string::npos) ip = "[" + ip + "]";
    out += ip + ":" + std::to_string(p.host_port) + "->" + std::to_string(p.container_port) + "/" + p.proto;
  }
  return out;
}

PortForwarder& PortForwarder::operator=(PortForwarder&& o) noexcept {
  if (this != &o) {
    stop();
    m_pid = o.m_pid;
    o.m_pid = -1;
  }
  return *this;
}

Result<PortForwarder> PortForwarder::start(int netns, const std::vector<PublishedPort>& ports,
                                           const std::string& prefix) {
  std::string ns_name = prefix + "pasta-netns", pid_file = prefix + "pasta.pid", log_path = prefix + "pasta.log";
  struct Cleanup {
    std::vector<std::string> paths;
    ~Cleanup() {
      for (const auto& p : paths) ::unlink(p.c_str());
    }
  } cleanup{{ns_name, pid_file, log_path}};
  UniqueFd name_fd = TRY(open_fd(ns_name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600));
  UniqueFd log = TRY(open_fd(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600));
  std::vector<std::string> argv = {"pasta",       "--foreground",
                                   "--runas",     "0",
                                   "--quiet",     "--config-net",
                                   "--no-map-gw", "--no-netns-quit",  // the host's loopback stays out of reach
                                   "-t",          pasta_spec(ports, "tcp"),
                                   "-u",          pasta_spec(ports, "udp"),
                                   "-T",          "none",
                                   "-U",          "none",
                                   "--netns",     ns_name,
                                   "--pid",       pid_file};
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork pasta");
  if (pid == 0) exec_pasta(netns, log.get(), ns_name.c_str(), args.data(), parent);
  PortForwarder f;
  f.m_pid = pid;
  // Ready once pasta has written its pid file: its ports listen and the namespace is configured.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    struct stat st;
    if (::stat(pid_file.c_str(), &st) == 0 && st.st_size > 0) return f;
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      f.m_pid = -1;
      std::string why = last_words(log_path);
      if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && why.find("run pasta") != std::string::npos)
        return make_error(ErrorCode::not_found,
                          "publishing ports needs pasta, which is not installed (apt-get install passt)");
      if (why.find("tun") != std::string::npos && !in_initial_user_namespace())
        return make_error(ErrorCode::unsupported,
                          "pasta could not open /dev/net/tun as this user (" + why +
                              "): rootless -p needs it open to users, as Debian's udev makes it (mode 0666)");
      return make_error(ErrorCode::generic,
                        "pasta could not connect the container's network" + (why.empty() ? std::string() : ": " + why));
    }
    if (std::chrono::steady_clock::now() > deadline)
      return make_error(ErrorCode::generic, "pasta did not get the container's network ready in 10 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void PortForwarder::stop() {
  if (m_pid <= 0) return;
  ::kill(m_pid, SIGKILL);
  int status;
  while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
  }
  m_pid = -1;
}

}  // namespace kiln::runtime
