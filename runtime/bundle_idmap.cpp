// kiln-runtime: the maps of a container's new user namespace.
#include "runtime/bundle_idmap.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "common/fd.h"

namespace kiln::runtime {

namespace {

const char* field_of(bool uids) { return uids ? "linux.uidMappings" : "linux.gidMappings"; }

std::string map_text(const std::vector<IdMapping>& ms) {
  std::string t;
  for (const auto& m : ms)
    t += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
  return t;
}

Status write_proc(pid_t pid, const char* file, const std::string& text, const std::string& what) {
  auto fd = open_fd("/proc/" + std::to_string(pid) + "/" + file, O_WRONLY | O_CLOEXEC);
  if (!fd || !write_all(fd->get(), text))
    return make_error(ErrorCode::invalid_argument, what + ": the kernel refused the mapping");
  return {};
}

/// newuidmap or newgidmap PID with the mappings as triplets; its own stderr says why it refused.
Status run_map_program(const char* program, pid_t pid, const std::vector<IdMapping>& ms, bool uids) {
  std::vector<std::string> args{program, std::to_string(pid)};
  for (const auto& m : ms)
    for (uint32_t v : {m.container_id, m.host_id, m.size}) args.push_back(std::to_string(v));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int err[2];
  if (::pipe2(err, O_CLOEXEC) < 0) return sys_error(std::string("pipe for ") + program);
  UniqueFd err_r(err[0]), err_w(err[1]);
  pid_t child = ::fork();
  if (child < 0) return sys_error(std::string("fork ") + program);
  if (child == 0) {
    ::dup2(err_w.get(), 2);
    ::execvp(program, argv.data());
    ::_exit(errno == ENOENT ? 127 : 126);
  }
  err_w.reset();
  std::string said;  // its stderr, of which the last line goes into the error
  char buf[512];
  for (ssize_t n; (n = ::read(err_r.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR);)
    if (n > 0 && said.size() < 4096) said.append(buf, static_cast<size_t>(n));
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return make_error(ErrorCode::unsupported, std::string(field_of(uids)) + ": an ordinary user maps other ids with " +
                                                  program + ", which is not installed (apt-get install uidmap)");
  while (!said.empty() && said.back() == '\n') said.pop_back();
  std::string last = said.substr(said.rfind('\n') == std::string::npos ? 0 : said.rfind('\n') + 1);
  return make_error(ErrorCode::invalid_argument, std::string(field_of(uids)) + ": " + program + " refused the mapping" +
                                                     (last.empty() ? "" : " (" + last + ")") +
                                                     ": the ranges must be the user's in /etc/subuid and /etc/subgid");
}

/// The caller's own id alone, as the only mapping.
bool own_id_only(const std::vector<IdMapping>& ms, uint32_t own) {
  return ms.size() == 1 && ms[0].host_id == own && ms[0].size == 1;
}

}  // namespace

Status map_bundle_user_namespace(pid_t pid, const std::vector<IdMapping>& uids, const std::vector<IdMapping>& gids) {
  if (::geteuid() == 0) {  // CAP_SETUID and CAP_SETGID over the new namespace
    TRY(write_proc(pid, "uid_map", map_text(uids), field_of(true)));
    return write_proc(pid, "gid_map", map_text(gids), field_of(false));
  }
  if (own_id_only(uids, ::geteuid()) && own_id_only(gids, ::getegid())) {
    TRY(write_proc(pid, "uid_map", map_text(uids), field_of(true)));
    // Without CAP_SETGID the kernel takes a gid map only once setgroups is denied in the namespace.
    if (!write_proc(pid, "setgroups", "deny", "setgroups"))
      return make_error(ErrorCode::invalid_argument, "linux.gidMappings: could not deny setgroups first");
    return write_proc(pid, "gid_map", map_text(gids), field_of(false));
  }
  TRY(run_map_program("newuidmap", pid, uids, true));
  return run_map_program("newgidmap", pid, gids, false);
}

}  // namespace kiln::runtime
