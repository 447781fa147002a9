// Rootless kiln's user namespace (see user_namespace.h).
#include "runtime/user_namespace.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <tuple>
#include <vector>

#include "common/fd.h"
#include "common/identity.h"
#include "runtime/state.h"

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

/// newuidmap or newgidmap for `pid`, forked now (in the host's user namespace) and exec'd once `go` gives it a
/// byte; EOF there (the namespace was refused) makes it exit instead. Its stderr goes to `err`. go_w is the
/// other end of go.
struct IdMapper {
  std::string program;
  pid_t pid = -1;
  UniqueFd err;
};

Result<IdMapper> fork_idmap(const std::string& program, pid_t target, const std::vector<std::string>& map, int go,
                            int go_w) {
  int errp[2];
  if (::pipe2(errp, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd err_r(errp[0]), err_w(errp[1]);
  std::vector<std::string> words{program, std::to_string(target)};
  words.insert(words.end(), map.begin(), map.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  pid_t child = ::fork();
  if (child < 0) return sys_error("fork for " + program);
  if (child == 0) {
    ::close(go_w);  // else its EOF would never come
    char c;
    if (::read(go, &c, 1) != 1) ::_exit(1);
    ::dup2(err_w.get(), 2);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  return IdMapper{program, child, std::move(err_r)};
}

/// Waits for a mapper; its last stderr line goes into the error.
Status finish_idmap(IdMapper& m) {
  std::string said;
  char buf[512];
  for (ssize_t n; (n = ::read(m.err.get(), buf, sizeof buf)) > 0;) said.append(buf, static_cast<size_t>(n));
  int status = 0;
  while (::waitpid(m.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  while (!said.empty() && said.back() == '\n') said.pop_back();
  if (auto nl = said.rfind('\n'); nl != std::string::npos) said = said.substr(nl + 1);
  return make_error(ErrorCode::unsupported,
                    "rootless kiln: " + m.program + " failed" + (said.empty() ? "" : ": " + said));
}

/// The maps: 0 is the user; 1.. the subordinate range, at most 65535 of it (a container's usual ids).
std::vector<std::string> id_map(unsigned long own, const SubidRange& r) {
  unsigned long n = r.count < 65535 ? r.count : 65535;
  return {"0", std::to_string(own), "1", "1", std::to_string(r.start), std::to_string(n)};
}

/// newuidmap and newgidmap, forked before unshare (they must run in the host's user namespace), map this
/// process once it has its namespace; the two run at once.
Status map_with_ranges(uid_t uid, gid_t gid, const SubidRange& uids, const SubidRange& gids) {
  std::string newuidmap = find_program("newuidmap"), newgidmap = find_program("newgidmap");
  if (newuidmap.empty() || newgidmap.empty())
    return make_error(ErrorCode::not_found,
                      "rootless kiln needs newuidmap and newgidmap to map the /etc/subuid and /etc/subgid ranges, "
                      "and they are not installed (apt-get install uidmap)");
  int go[2];
  if (::pipe2(go, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd go_r(go[0]), go_w(go[1]);
  std::vector<IdMapper> mappers;
  for (auto [program, own, range] : {std::tuple{newuidmap, static_cast<unsigned long>(uid), uids},
                                     std::tuple{newgidmap, static_cast<unsigned long>(gid), gids}}) {
    auto m = fork_idmap(program, ::getpid(), id_map(own, range), go_r.get(), go_w.get());
    if (!m) {
      go_w.reset();  // the ones forked read EOF and exit
      for (auto& started : mappers) (void)finish_idmap(started);
      return std::move(m).error();
    }
    mappers.push_back(std::move(*m));
  }
  go_r.reset();
  int unshared = ::unshare(CLONE_NEWUSER) == 0 ? 0 : errno;
  if (unshared == 0) (void)!::write(go_w.get(), "xx", 2);
  go_w.reset();
  Status mapped;
  for (auto& m : mappers)
    if (Status st = finish_idmap(m); !st && mapped) mapped = std::move(st);
  if (unshared != 0) return userns_refused(unshared);
  return mapped;
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

namespace {

constexpr const char* kLockFile = "/userns.lock";
constexpr const char* kKeeperFile = "/userns.pid";
/// How often the keeper looks whether any kiln still holds the lock; it leaves after two looks in a row
/// found none.
constexpr unsigned kKeeperLookSeconds = 10;

/// Holds the lock shared: the keeper leaves only once no kiln holds it. Open until exec (kiln takes it
/// again then, hold_user_namespace).
Result<UniqueFd> lock_shared(const std::string& run_dir) {
  UniqueFd fd = TRY(open_fd(run_dir + kLockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  while (::flock(fd.get(), LOCK_SH) < 0)
    if (errno != EINTR) return sys_error("lock " + run_dir + kLockFile);
  return fd;
}

/// The keeper named by the run directory, if it is alive and the same process (pid and start time): its user
/// namespace, joined. False when there is none to join.
bool join_keeper(const std::string& run_dir) {
  auto text = read_file(run_dir + kKeeperFile, 128);
  if (!text) return false;
  std::istringstream in(*text);
  long pid = 0;
  unsigned long long start = 0;
  if (!(in >> pid >> start) || pid <= 1) return false;
  UniqueFd ns(::open(("/proc/" + std::to_string(pid) + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
  if (ns.get() < 0) return false;
  // After the open: the fd is that process's namespace. A zombie keeper (killed, not yet reaped) keeps its
  // namespace readable, but no longer keeps it for anyone.
  if (!same_live_process(static_cast<pid_t>(pid), start)) return false;
  return ::setns(ns.get(), CLONE_NEWUSER) == 0;
}

/// A small process that keeps the user namespace alive between kilns, so the next one joins it instead of
/// mapping a new one (newuidmap and newgidmap cost two setuid programs a command). It leaves once no kiln
/// has held the lock for two looks in a row, and removes its name when it is still the one named.
void start_keeper(const std::string& run_dir) {
  pid_t pid = ::fork();
  if (pid != 0) {
    if (pid < 0) return;  // no keeper: the next kiln maps a namespace of its own
    auto start = start_time_of(pid);
    if (!start) return;
    std::string tmp = run_dir + kKeeperFile + ".tmp" + std::to_string(::getpid());
    UniqueFd f(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
    std::string line = std::to_string(pid) + " " + std::to_string(*start) + "\n";
    if (f.get() < 0 || !write_all(f.get(), line) || ::rename(tmp.c_str(), (run_dir + kKeeperFile).c_str()) < 0)
      ::unlink(tmp.c_str());
    return;
  }
  ::setsid();  // not in the terminal's process group: Ctrl-C is for the kiln at hand
  ::prctl(PR_SET_NAME, "kiln-userns");
  // Readable through /proc by the user's next kilns (gaining capabilities had made it non-dumpable). It holds
  // nothing but the namespace.
  ::prctl(PR_SET_DUMPABLE, 1);
  int null = ::open("/dev/null", O_RDWR);
  for (int f = 0; f < 3; ++f) ::dup2(null, f);
  ::syscall(SYS_close_range, 3, ~0U, 0);
  int lock = ::open((run_dir + kLockFile).c_str(), O_RDWR | O_CLOEXEC);
  if (lock < 0) ::_exit(0);
  for (int idle = 0; idle < 2;) {
    ::sleep(kKeeperLookSeconds);
    bool unused = ::flock(lock, LOCK_EX | LOCK_NB) == 0;
    idle = unused ? idle + 1 : 0;
    if (unused && idle < 2) ::flock(lock, LOCK_UN);
  }
  // Still holding the lock exclusively: no kiln can look for a keeper until this one is gone.
  auto text = read_file(run_dir + kKeeperFile, 128);
  if (text && text->rfind(std::to_string(::getpid()) + " ", 0) == 0) ::unlink((run_dir + kKeeperFile).c_str());
  ::_exit(0);
}

}  // namespace

Result<bool> enter_user_namespace(const std::string& run_dir) {
  if (::geteuid() == 0) return false;
  uid_t uid = ::geteuid();
  gid_t gid = ::getegid();
  UniqueFd lock = TRY(lock_shared(run_dir));
  bool single_id = false;
  if (!join_keeper(run_dir)) {
    std::string user = user_name(uid);
    auto uids = range_of("/etc/subuid", user, uid);
    auto gids = range_of("/etc/subgid", user, uid);
    single_id = !(uids && gids);
    TRY(single_id ? map_own_ids(uid, gid) : map_with_ranges(uid, gid, *uids, *gids));
    start_keeper(run_dir);
  }
  if (!single_id) (void)::setgroups(0, nullptr);  // the user's other groups are not mapped: drop them
  if (::syscall(SYS_setresgid, 0, 0, 0) < 0 || ::syscall(SYS_setresuid, 0, 0, 0) < 0)
    return sys_error("rootless kiln: become root in its user namespace");
  ::setenv(kRootlessEnv, std::to_string(uid).c_str(), 1);
  return single_id;
}

void hold_user_namespace(const std::string& run_dir) {
  if (in_initial_user_namespace()) return;
  if (auto fd = lock_shared(run_dir)) (void)fd->release();  // held until kiln exits or execs
}

}  // namespace kiln::runtime
