// Container state registry.
#include "runtime/state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "cas/store.h"
#include "common/identity.h"
#include "common/json.h"
#include "common/number.h"
#include "runtime/cgroups.h"
#include "runtime/log_writer.h"

namespace kiln::runtime {

std::string run_base() {
  if (!rootless()) return "/run/kiln";
  if (const char* x = ::getenv("XDG_RUNTIME_DIR"); x && *x) return std::string(x) + "/kiln";
  return "/tmp/kiln-" + std::to_string(host_uid());
}

Status check_run_base() {
  std::string base = run_base();
  if (auto made = make_dirs(base, 0700); !made) return std::move(made).error().context("rootless kiln's run directory");
  struct stat st {};
  if (::lstat(base.c_str(), &st) < 0) return sys_error("rootless kiln's run directory " + base);
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    return make_error(ErrorCode::unsupported,
                      "rootless kiln's run directory " + base + " is not a directory of yours alone (owner " +
                          std::to_string(st.st_uid) + ", mode " + mode + "): remove it, or set XDG_RUNTIME_DIR");
  }
  return {};
}

std::string containers_dir() {
  if (const char* d = ::getenv("KILN_RUN_DIR"); d && *d) return d;
  return run_base() + "/containers";
}

std::string state_path_of(const std::string& id) { return containers_dir() + "/" + id + ".json"; }

std::string log_path_of(const std::string& id) { return containers_dir() + "/../logs/" + id + ".log"; }

namespace {

Result<ContainerState> load_state(const std::string& path) {
  std::string text = TRY(read_file(path));
  try {
    auto j = parse_json(text);
    ContainerState s;
    s.id = j.at("id");
    s.name = j.at("name");
    s.image = j.value("image", "");
    s.image_digest = j.value("image_digest", "");
    s.image_id = j.value("image_id", "");
    s.store_root = j.value("store_root", "");
    s.created = j.value("created", "");
    s.args = j.value("args", std::vector<std::string>{});
    s.pid = static_cast<pid_t>(json_int(j, "pid", 0, 0, INT32_MAX));
    s.pid_start = json_uint(j, "pid_start", 0);
    s.pidns = json_uint(j, "pidns", 0);
    s.stop_signal = static_cast<int>(json_int(j, "stop_signal", 15, 1, 64));
    s.stop_timeout = static_cast<int>(json_int(j, "stop_timeout", 10, 0, INT32_MAX));
    s.log_path = j.value("log_path", "");
    s.ports = j.value("ports", "");
    s.env = j.value("env", std::vector<std::string>{});
    s.user = j.value("user", "");
    s.cwd = j.value("cwd", "/");
    s.seccomp_profile = j.value("seccomp_profile", "");
    s.cap_add = j.value("cap_add", std::vector<std::string>{});
    s.cap_drop = j.value("cap_drop", std::vector<std::string>{});
    return s;
  } catch (const nlohmann::json::exception& ex) {
    return make_error(ErrorCode::corrupt, path + " is malformed: " + ex.what());
  }
}

constexpr const char* kNames = ".names";
/// A name link holds this many hex digits of its container's ID: under 60 bytes, ext4 keeps the target in the
/// inode, where a longer one costs a data block (and its discard when the link goes).
constexpr size_t kNameTarget = 48;

std::string read_link(const std::string& path) {
  char buf[256];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

/// True while the supervising process holds the lock (a flock on the state file itself; on the directory for
/// state an older kiln left).
bool alive(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

/// The names in a directory; none when it cannot be read.
std::vector<std::string> entries(const std::string& dir) {
  auto names = list_dir(dir);
  return names ? std::move(*names) : std::vector<std::string>{};
}

/// The registry lock (a flock on .names) serializes the birth of a container (state file, its lock, its name)
/// against the sweeping of dead ones: without it a sweeper could take a state file made but not yet locked.
Result<UniqueFd> lock_registry() {
  std::string names = containers_dir() + "/" + kNames;
  auto opened = open_fd(names, O_RDONLY | O_DIRECTORY);  // made by the first container only
  if (!opened && opened.error().code == ErrorCode::not_found) {
    TRY(make_dirs(names, 0700));
    opened = open_fd(names, O_RDONLY | O_DIRECTORY);
  }
  UniqueFd fd = TRY(std::move(opened));
  if (::flock(fd.get(), LOCK_EX) < 0) return sys_error("lock " + names);
  return fd;
}

/// Under the registry lock: clear what containers whose supervisor died (kill -9) left behind. Their mount
/// namespaces went with them; state files, cgroups and names are ours to remove.
void sweep_dead() {
  std::string base = containers_dir();
  std::vector<std::string> live;
  for (const auto& entry : entries(base)) {
    if (entry[0] == '.') continue;
    std::string id = entry.ends_with(".json") ? entry.substr(0, entry.size() - 5) : entry;
    if (alive(base + "/" + entry)) {
      live.push_back(id);
      continue;
    }
    // A cgroup that would not go keeps the state file, so the next sweep tries again (kiln gc too).
    if (!Cgroup::remove_stale(id)) continue;
    (void)remove_tree(base + "/" + entry);
    remove_log(log_path_of(id));  // a -d container's, its supervisor killed
  }
  std::string names = base + "/" + kNames;
  for (const auto& n : entries(names)) {
    std::string owner = read_link(names + "/" + n);
    bool owned = false;
    for (const auto& id : live) owned |= !owner.empty() && id.starts_with(owner);
    if (!owned) ::unlink((names + "/" + n).c_str());
  }
}

}  // namespace

Result<StateFile> StateFile::create(const ContainerSpec& spec) {
  UniqueFd registry = TRY(lock_registry());
  StateFile s;
  s.m_path = state_path_of(spec.id);
  auto fd = open_fd(s.m_path, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (!fd) return std::move(fd).error().context("create the container's state");
  if (::flock(fd->get(), LOCK_EX) < 0) {
    ::unlink(s.m_path.c_str());
    return sys_error("lock " + s.m_path);
  }
  s.m_lock = std::move(*fd);
  // The name is a symlink .names/NAME -> ID (its first kNameTarget digits). One that exists may be a killed
  // kiln's: sweep, and try once more; after the sweep, one that exists belongs to a live container.
  std::string link = containers_dir() + "/" + kNames + "/" + spec.name;
  std::string target = spec.id.substr(0, kNameTarget);
  int made = ::symlink(target.c_str(), link.c_str());
  if (made < 0 && errno == EEXIST) {
    sweep_dead();
    made = ::symlink(target.c_str(), link.c_str());
  }
  if (made < 0) {
    int e = errno;
    s.remove_file_only();
    if (e != EEXIST) return sys_error("reserve the container name " + spec.name);
    return make_error(ErrorCode::conflict, "the container name \"" + spec.name + "\" is already in use by " +
                                               read_link(link).substr(0, 12) + " (choose another --name)");
  }
  s.m_name_link = link;
  return s;
}

void StateFile::sweep_leftovers() {
  if (auto registry = lock_registry()) sweep_dead();
}

Status StateFile::save(const ContainerState& st) const {
  nlohmann::json j = {{"id", st.id},
                      {"name", st.name},
                      {"image", st.image},
                      {"image_digest", st.image_digest},
                      {"image_id", st.image_id},
                      {"store_root", st.store_root},
                      {"created", st.created},
                      {"args", st.args},
                      {"pid", st.pid},
                      {"pid_start", st.pid_start},
                      {"pidns", st.pidns},
                      {"stop_signal", st.stop_signal},
                      {"stop_timeout", st.stop_timeout},
                      {"log_path", st.log_path},
                      {"ports", st.ports},
                      {"env", st.env},
                      {"user", st.user},
                      {"cwd", st.cwd},
                      {"seccomp_profile", st.seccomp_profile},
                      {"cap_add", st.cap_add},
                      {"cap_drop", st.cap_drop}};
  // Written once, in place (the lock lives on this inode), without fsync: runtime state lives no longer than
  // the container. A reader that comes before it sees an empty file and skips the container as starting.
  std::string text = json_text(j);
  if (::pwrite(m_lock.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
    return sys_error("save container state " + m_path);
  return {};
}

void StateFile::remove_file_only() {
  if (m_path.empty()) return;
  ::unlink(m_path.c_str());
  m_lock.reset();
  m_path.clear();
}

void StateFile::remove() {
  // The name goes first, while the lock still says it is ours.
  if (!m_name_link.empty()) ::unlink(m_name_link.c_str());
  m_name_link.clear();
  remove_file_only();
}

Result<std::vector<ContainerState>> list_containers() {
  std::vector<ContainerState> out;
  std::string base = containers_dir();
  if (!path_exists(base)) return out;
  if (auto registry = lock_registry()) sweep_dead();
  for (const auto& entry : entries(base)) {
    std::string path = base + "/" + entry;
    if (entry[0] == '.' || !entry.ends_with(".json") || !alive(path)) continue;
    auto st = load_state(path);
    if (st) out.push_back(std::move(*st));
  }
  return out;
}

size_t remove_orphan_cgroups() {
  // Under the registry lock no container is born between the listing and the removal: a starting one's
  // cgroup, made after its state file, would be empty, and rmdir would take it.
  auto registry = lock_registry();
  if (registry) sweep_dead();
  std::vector<std::string> live;
  std::string base = containers_dir();
  for (const auto& entry : entries(base))
    if (entry[0] != '.' && entry.ends_with(".json") && alive(base + "/" + entry))
      live.push_back(entry.substr(0, entry.size() - 5));
  return Cgroup::remove_orphans(live);
}

Result<ContainerState> find_container(const std::string& key) {
  auto all = TRY(list_containers());
  const ContainerState* found = nullptr;
  for (const auto& c : all) {
    if (c.name == key || c.id == key) return c;
    if (key.size() >= 3 && c.id.rfind(key, 0) == 0) {
      if (found) return make_error(ErrorCode::invalid_argument, "container ID prefix " + key + " is ambiguous");
      found = &c;
    }
  }
  if (!found)
    return make_error(ErrorCode::not_found, "no such container: " + key + " (kiln ps lists running containers)");
  return *found;
}

std::optional<uint64_t> start_time_of(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!text) return std::nullopt;
  size_t close = text->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  size_t at = close + 1;
  for (int field = 3; field < 22; ++field) {  // skip to field 22
    at = text->find(' ', at + 1);
    if (at == std::string::npos) return std::nullopt;
  }
  size_t end = text->find(' ', at + 1);
  return parse_uint(
      std::string_view(*text).substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1));
}

bool same_live_process(pid_t pid, uint64_t start) {
  if (pid <= 0) return false;
  auto now = start_time_of(pid);
  if (!now || *now != start) return false;
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!stat) return false;
  size_t close = stat->rfind(')');
  return close == std::string::npos || close + 2 >= stat->size() || (*stat)[close + 2] != 'Z';
}

namespace {

std::optional<uint64_t> pidns_of(const std::string& proc_dir) {
  struct stat st;
  if (::stat((proc_dir + "/ns/pid").c_str(), &st) < 0) return std::nullopt;
  return st.st_ino;
}

}  // namespace

Status record_identity(ContainerState& st) {
  auto start = start_time_of(st.pid);
  auto ns = pidns_of("/proc/" + std::to_string(st.pid));
  if (!start || !ns) return sys_error("read the container process " + std::to_string(st.pid));
  st.pid_start = *start;
  st.pidns = *ns;
  return {};
}

Result<UniqueFd> open_container_process(const ContainerState& st) {
  auto gone = [&] { return make_error(ErrorCode::not_found, "container " + st.name + " is not running"); };
  if (st.pid <= 1 || st.pid_start == 0 || st.pidns == 0) return gone();
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, st.pid, 0));
  if (fd < 0) return gone();
  UniqueFd pidfd(fd);
  // With the pidfd held the pid cannot name another process; what it names now must be what was recorded.
  auto start = start_time_of(st.pid);
  auto ns = pidns_of("/proc/" + std::to_string(st.pid));
  auto own = pidns_of("/proc/self");
  if (!start || !ns || *start != st.pid_start || *ns != st.pidns) return gone();
  if (own && *own == *ns)
    return make_error(ErrorCode::unsafe, "container " + st.name + "'s state names a process outside it: refused");
  return pidfd;
}

}  // namespace kiln::runtime
