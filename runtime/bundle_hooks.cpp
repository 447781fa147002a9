// Running OCI hooks: fork, exec with the state on stdin, wait with the hook's timeout.
#include "runtime/bundle_hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/fd.h"
#include "common/json.h"

namespace kiln::runtime {

namespace {

using nlohmann::json;

constexpr size_t kKeptOutput = 4096;  // what a failed hook's error quotes: the end of its output

int64_t now_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

/// The last non-empty line of a hook's output, for its error.
std::string last_line(const std::string& out) {
  size_t end = out.find_last_not_of("\r\n \t");
  if (end == std::string::npos) return "";
  size_t start = out.find_last_of('\n', end);
  return out.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

/// In the forked child: stdin the state socket, stdout and stderr the output pipe, exec. Never returns.
[[noreturn]] void exec_hook(const Hook& h, int in, int out) {
  ::setpgid(0, 0);  // a group of its own: a timeout kills what it started too
  if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) ::_exit(127);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s = 1; s < NSIG; ++s)
    if (s != SIGKILL && s != SIGSTOP) ::signal(s, SIG_DFL);
  std::vector<std::string> args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = h.env;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  ::execve(h.path.c_str(), argv.data(), envp.data());
  std::string msg = "exec " + h.path + ": " + std::strerror(errno) + "\n";
  (void)!::write(2, msg.data(), msg.size());
  ::_exit(127);
}

Status run_hook(const Hook& h, const std::string& name, const std::string& state) {
  int sp[2], op[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) return sys_error(name + ": socketpair");
  UniqueFd in_mine(sp[0]), in_theirs(sp[1]);
  if (::pipe2(op, O_CLOEXEC) < 0) return sys_error(name + ": pipe");
  UniqueFd out_r(op[0]), out_w(op[1]);
  pid_t pid = ::fork();
  if (pid < 0) return sys_error(name + ": fork");
  if (pid == 0) exec_hook(h, in_theirs.get(), out_w.get());
  in_theirs.reset();
  out_w.reset();
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  ::fcntl(in_mine.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(out_r.get(), F_SETFL, O_NONBLOCK);
  size_t sent = 0;
  if (state.empty()) ::shutdown(in_mine.get(), SHUT_WR);
  std::string out;
  int64_t deadline = h.timeout > 0 ? now_ms() + int64_t{h.timeout} * 1000 : -1;
  bool exited = false, timed_out = false;
  while (!exited) {
    struct pollfd p[3] = {{pidfd.get(), POLLIN, 0}, {out_r.get(), POLLIN, 0},
                          {sent < state.size() ? in_mine.get() : -1, POLLOUT, 0}};
    int wait = deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
    int n = ::poll(p, 3, wait);
    if (n < 0 && errno != EINTR) break;
    if (n == 0) {
      timed_out = true;
      break;
    }
    if (p[2].revents & (POLLOUT | POLLERR | POLLHUP)) {
      ssize_t w = ::send(in_mine.get(), state.data() + sent, state.size() - sent, MSG_NOSIGNAL);
      if (w > 0) sent += static_cast<size_t>(w);
      if (w < 0 && errno != EAGAIN && errno != EINTR) sent = state.size();  // it closed its stdin: fine
      if (sent == state.size()) ::shutdown(in_mine.get(), SHUT_WR);
    }
    if (p[1].revents & (POLLIN | POLLHUP)) {
      char buf[4096];
      ssize_t r = ::read(out_r.get(), buf, sizeof buf);
      if (r > 0) {
        out.append(buf, static_cast<size_t>(r));
        if (out.size() > 2 * kKeptOutput) out.erase(0, out.size() - kKeptOutput);
      }
    }
    if (p[0].revents & POLLIN) exited = true;
  }
  if (!exited) ::kill(-pid, SIGKILL);  // the hook and whatever it started
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  for (char buf[4096]; out.size() < 2 * kKeptOutput;) {  // what it printed just before it ended
    ssize_t r = ::read(out_r.get(), buf, sizeof buf);
    if (r <= 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  std::string said = last_line(out);
  std::string tail = said.empty() ? "" : ": " + said;
  if (timed_out)
    return make_error(ErrorCode::generic, name + " (" + h.path + ") did not finish within its timeout of " +
                                              std::to_string(h.timeout) + "s and was killed");
  if (!exited) return sys_error(name + " (" + h.path + "): wait");
  if (WIFSIGNALED(status))
    return make_error(ErrorCode::generic, name + " (" + h.path + ") was killed by signal " +
                                              std::to_string(WTERMSIG(status)) + tail);
  if (WEXITSTATUS(status) != 0)
    return make_error(ErrorCode::generic,
                      name + " (" + h.path + ") failed: exit status " + std::to_string(WEXITSTATUS(status)) + tail);
  return {};
}

Result<std::vector<Hook>> parse_list(const json& j, const std::string& field, const std::string& file) {
  auto bad = [&](const std::string& what) {
    return make_error(ErrorCode::invalid_argument, file + ": " + field + ": " + what);
  };
  std::vector<Hook> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return bad("must be an array of hooks");
  for (const auto& e : j) {
    if (!e.is_object() || !e.contains("path") || !e.at("path").is_string())
      return bad("each hook needs a \"path\" string");
    Hook h;
    h.path = e.at("path").get<std::string>();
    if (h.path.empty() || h.path[0] != '/') return bad("path \"" + h.path + "\" must be absolute");
    for (const char* key : {"args", "env"}) {
      if (!e.contains(key) || e.at(key).is_null()) continue;
      if (!e.at(key).is_array()) return bad(std::string(key) + " must be an array of strings");
      for (const auto& s : e.at(key)) {
        if (!s.is_string()) return bad(std::string(key) + " must be an array of strings");
        (key[0] == 'a' ? h.args : h.env).push_back(s.get<std::string>());
      }
    }
    if (e.contains("timeout") && !e.at("timeout").is_null()) {
      if (!e.at("timeout").is_number_integer() || e.at("timeout").get<int64_t>() <= 0 ||
          e.at("timeout").get<int64_t>() > 86400 * 365)
        return bad("timeout must be a positive number of seconds");
      h.timeout = static_cast<int>(e.at("timeout").get<int64_t>());
    }
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace

Result<BundleHooks> parse_bundle_hooks(const std::string& hooks_json, const std::string& file) {
  BundleHooks hs;
  if (hooks_json.empty()) return hs;
  try {
    json j = parse_json(hooks_json);
    if (j.is_null()) return hs;
    if (!j.is_object()) return make_error(ErrorCode::invalid_argument, file + ": hooks: must be an object");
    for (const auto& [key, list] : {std::pair{"prestart", &hs.prestart}, {"createRuntime", &hs.create_runtime},
                                    {"createContainer", &hs.create_container}, {"startContainer", &hs.start_container},
                                    {"poststart", &hs.poststart}, {"poststop", &hs.poststop}})
      if (j.contains(key)) *list = TRY(parse_list(j.at(key), std::string("hooks.") + key, file));
    for (const auto& [k, v] : j.items())
      if (k != "prestart" && k != "createRuntime" && k != "createContainer" && k != "startContainer" &&
          k != "poststart" && k != "poststop" && !v.is_null())
        return make_error(ErrorCode::invalid_argument, file + ": hooks." + k + ": unknown kind of hook");
  } catch (const json::exception& e) {
    return make_error(ErrorCode::invalid_argument, file + ": hooks: " + e.what());
  }
  return hs;
}

std::string hook_state_json(const HookState& s, const std::string& status, pid_t pid) {
  json j = {{"ociVersion", "1.0.2"}, {"id", s.id},         {"status", status},
            {"pid", pid},            {"bundle", s.bundle}, {"annotations", s.annotations}};
  return json_text(j);
}

Status run_hooks(const std::vector<Hook>& hooks, const std::string& kind, const std::string& state_json) {
  for (size_t i = 0; i < hooks.size(); ++i)
    TRY(run_hook(hooks[i], "hooks." + kind + "[" + std::to_string(i) + "]", state_json));
  return {};
}

}  // namespace kiln::runtime
