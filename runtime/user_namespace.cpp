// Rootless kiln's user namespace (see user_namespace.h).
#include "runtime/user_namespace.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <vector>

#include "common/fd.h"
#include "common/identity.h"

namespace kiln::runtime {

std::optional<SubidRange> find_subid_range(const std::string& text, const std::string& user, unsigned long id) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(':'), b = line.find(':', a == std::string::npos ? a : a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string who = line.substr(0, a);
    if (who != user && who != std::to_string(id)) continue;
    try {
      size_t used = 0;
      std::string s = line.substr(a + 1, b - a - 1), c = line.substr(b + 1);
      SubidRange r{std::stoul(s, &used), 0};
      if (used != s.size()) continue;
      r.count = std::stoul(c, &used);
      if (used != c.size() || r.count == 0) continue;
      return r;
    } catch (const std::exception&) {
      continue;
    }
  }
  return std::nullopt;
}

namespace {

/// The user's name from /etc/passwd (read by hand: the static kiln has no NSS), or "" when it has none.
std::string user_name(uid_t uid) {
  auto text = read_file("/etc/passwd");
  if (!text) return "";
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(':'), b = line.find(':', a + 1), c = line.find(':', b + 1);
    if (c == std::string::npos) continue;
    if (line.substr(b + 1, c - b - 1) == std::to_string(uid)) return line.substr(0, a);
  }
  return "";
}

std::optional<SubidRange> range_of(const char* file, const std::string& user, unsigned long id) {
  auto text = read_file(file);
  return text ? find_subid_range(*text, user, id) : std::nullopt;
}

/// The first word of a one-line setting under /proc/sys, or "" when the kernel has no such setting.
std::string sysctl(const std::string& name) {
  auto text = read_file("/proc/sys/" + name, 64);
  if (!text) return "";
  return text->substr(0, text->find_first_of(" \n"));
}

/// Why unshare(CLONE_NEWUSER) was refused, naming the setting that refuses it.
Error userns_refused(int err) {
  std::string why;
  if (sysctl("kernel/unprivileged_userns_clone") == "0")
    why = "unprivileged user namespaces are disabled (sysctl kernel.unprivileged_userns_clone=0; set it to 1)";
  else if (sysctl("kernel/apparmor_restrict_unprivileged_userns") == "1")
    why = "AppArmor restricts unprivileged user namespaces (sysctl kernel.apparmor_restrict_unprivileged_userns=1)";
  else if (sysctl("user/max_user_namespaces") == "0")
    why = "user namespaces are disabled (sysctl user.max_user_namespaces=0)";
  else
    return sys_error("rootless kiln: make a user namespace", err);
  return make_error(ErrorCode::unsupported, "rootless kiln needs a user namespace, but " + why);
}

/// Where a program is on the PATH (or the usual places), or "" when it is not installed.
std::string find_program(const std::string& name) {
  std::string path = ::getenv("PATH") ? ::getenv("PATH") : "";
  path += ":/usr/bin:/bin:/usr/sbin:/sbin";
  std::istringstream in(path);
  std::string dir;
  while (std::getline(in, dir, ':'))
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  return "";
}

/// Run newuidmap/newgidmap on `pid`; its last stderr line goes into the error.
Status run_idmap(const std::string& program, pid_t pid, const std::vector<std::string>& map) {
  int errp[2];
  if (::pipe2(errp, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd err_r(errp[0]), err_w(errp[1]);
  std::vector<std::string> words{program, std::to_string(pid)};
  words.insert(words.end(), map.begin(), map.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  pid_t child = ::fork();
  if (child < 0) return sys_error("fork for " + program);
  if (child == 0) {
    ::dup2(err_w.get(), 2);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  err_w.reset();
  std::string said;
  char buf[512];
  for (ssize_t n; (n = ::read(err_r.get(), buf, sizeof buf)) > 0;) said.append(buf, static_cast<size_t>(n));
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  while (!said.empty() && said.back() == '\n') said.pop_back();
  if (auto nl = said.rfind('\n'); nl != std::string::npos) said = said.substr(nl + 1);
  return make_error(ErrorCode::unsupported,
                    "rootless kiln: " + program + " failed" + (said.empty() ? "" : ": " + said));
}

/// The maps: 0 is the user; 1.. the subordinate range, at most 65535 of it (a container's usual ids).
std::vector<std::string> id_map(unsigned long own, const SubidRange& r) {
  unsigned long n = r.count < 65535 ? r.count : 65535;
  return {"0", std::to_string(own), "1", "1", std::to_string(r.start), std::to_string(n)};
}

/// A helper forked before unshare (it must stay in the host's user namespace) waits until this process has
/// its namespace, then maps it with newuidmap and newgidmap.
Status map_with_ranges(uid_t uid, gid_t gid, const SubidRange& uids, const SubidRange& gids) {
  std::string newuidmap = find_program("newuidmap"), newgidmap = find_program("newgidmap");
  if (newuidmap.empty() || newgidmap.empty())
    return make_error(ErrorCode::not_found,
                      "rootless kiln needs newuidmap and newgidmap to map the /etc/subuid and /etc/subgid ranges, "
                      "and they are not installed (apt-get install uidmap)");
  int go[2], done[2];
  if (::pipe2(go, O_CLOEXEC) < 0 || ::pipe2(done, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd go_r(go[0]), go_w(go[1]), done_r(done[0]), done_w(done[1]);
  pid_t self = ::getpid();
  pid_t helper = ::fork();
  if (helper < 0) return sys_error("fork the id-mapping helper");
  if (helper == 0) {
    go_w.reset();
    char c;
    if (::read(go_r.get(), &c, 1) != 1) ::_exit(1);  // unshare failed: nothing to map
    Status st = run_idmap(newuidmap, self, id_map(uid, uids));
    if (st) st = run_idmap(newgidmap, self, id_map(gid, gids));
    std::string msg = st ? "" : st.error().what();
    (void)!::write(done_w.get(), msg.data(), msg.size());
    ::_exit(st ? 0 : 1);
  }
  go_r.reset();
  done_w.reset();
  int unshared = ::unshare(CLONE_NEWUSER) == 0 ? 0 : errno;
  if (unshared == 0) (void)!::write(go_w.get(), "x", 1);
  go_w.reset();
  std::string msg;
  char buf[512];
  for (ssize_t n; (n = ::read(done_r.get(), buf, sizeof buf)) > 0;) msg.append(buf, static_cast<size_t>(n));
  int status = 0;
  while (::waitpid(helper, &status, 0) < 0 && errno == EINTR) {
  }
  if (unshared != 0) return userns_refused(unshared);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return make_error(ErrorCode::unsupported, msg.empty() ? "rootless kiln: the id-mapping helper failed" : msg);
  return {};
}

Status write_proc(const std::string& path, const std::string& text) {
  UniqueFd fd = TRY(open_fd(path, O_WRONLY));
  return write_all(fd.get(), text);
}

/// Without ranges: the user's own uid and gid, mapped to 0, written by this process itself.
Status map_own_ids(uid_t uid, gid_t gid) {
  if (::unshare(CLONE_NEWUSER) < 0) return userns_refused(errno);
  TRY(write_proc("/proc/self/setgroups", "deny"));
  TRY(write_proc("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1\n"));
  TRY(write_proc("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1\n"));
  return {};
}

}  // namespace

void note_single_id(const std::string& note_dir) {
  std::string user = user_name(host_uid());
  if (user.empty()) user = std::to_string(host_uid());
  std::string marker = note_dir + "/.single-id-noted";
  if (path_exists(marker)) return;
  std::fprintf(stderr,
               "kiln: note: %s has no range in /etc/subuid and /etc/subgid, so rootless kiln maps your own uid "
               "alone (to root): images with files of other owners are refused, and RUN cannot switch users "
               "(add ranges: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s)\n",
               user.c_str(), user.c_str());
  (void)make_dirs(note_dir, 0700);
  UniqueFd fd(::open(marker.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
}

Status join_user_namespace_of(pid_t pid) {
  if (::geteuid() == 0) return {};
  UniqueFd ns = TRY(open_fd("/proc/" + std::to_string(pid) + "/ns/user", O_RDONLY | O_CLOEXEC));
  if (::setns(ns.get(), CLONE_NEWUSER) < 0) return sys_error("rootless kiln: join the container's user namespace");
  if (::syscall(SYS_setresgid, 0, 0, 0) < 0 || ::syscall(SYS_setresuid, 0, 0, 0) < 0)
    return sys_error("rootless kiln: become root in the container's user namespace");
  return {};
}

Result<bool> enter_user_namespace() {
  if (::geteuid() == 0) return false;
  uid_t uid = ::geteuid();
  gid_t gid = ::getegid();
  std::string user = user_name(uid);
  auto uids = range_of("/etc/subuid", user, uid);
  auto gids = range_of("/etc/subgid", user, uid);
  if (uids && gids) {
    TRY(map_with_ranges(uid, gid, *uids, *gids));
    (void)::setgroups(0, nullptr);  // the user's other groups are not mapped: drop them
  } else {
    TRY(map_own_ids(uid, gid));
  }
  if (::syscall(SYS_setresgid, 0, 0, 0) < 0 || ::syscall(SYS_setresuid, 0, 0, 0) < 0)
    return sys_error("rootless kiln: become root in its user namespace");
  return !(uids && gids);
}

}  // namespace kiln::runtime
