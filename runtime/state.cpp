// Container state registry.
#include "runtime/state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "cas/store.h"
#include "runtime/cgroups.h"

namespace kiln::runtime {

std::string containers_dir() {
  if (const char* d = ::getenv("KILN_RUN_DIR"); d && *d) return d;
  return "/run/kiln/containers";
}

std::string state_dir_of(const std::string& id) { return containers_dir() + "/" + id; }

namespace {

Result<ContainerState> load_state(const std::string& dir) {
  std::string text = TRY(read_file(dir + "/state.json"));
  try {
    auto j = nlohmann::json::parse(text);
    ContainerState s;
    s.id = j.at("id");
    s.name = j.at("name");
    s.image = j.value("image", "");
    s.created = j.value("created", "");
    s.args = j.value("args", std::vector<std::string>{});
    s.pid = j.value("pid", 0);
    s.stop_signal = j.value("stop_signal", 15);
    s.log_path = j.value("log_path", "");
    s.env = j.value("env", std::vector<std::string>{});
    s.user = j.value("user", "");
    s.cwd = j.value("cwd", "/");
    s.seccomp_profile = j.value("seccomp_profile", "");
    s.cap_add = j.value("cap_add", std::vector<std::string>{});
    s.cap_drop = j.value("cap_drop", std::vector<std::string>{});
    return s;
  } catch (const nlohmann::json::exception& ex) {
    return make_error(ErrorCode::corrupt, dir + "/state.json is malformed: " + ex.what());
  }
}

constexpr const char* kNames = ".names";

std::string read_link(const std::string& path) {
  char buf[256];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

/// True while the supervising process holds the lock (a flock on the directory itself).
bool alive(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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

/// The registry lock (a flock on .names) serializes the birth of a container (state dir, its lock, its name)
/// against the sweeping of dead ones: without it a sweeper could take a state dir made but not yet locked.
Result<UniqueFd> lock_registry() {
  std::string names = containers_dir() + "/" + kNames;
  TRY(make_dirs(names, 0700));
  UniqueFd fd = TRY(open_fd(names, O_RDONLY | O_DIRECTORY));
  if (::flock(fd.get(), LOCK_EX) < 0) return sys_error("lock " + names);
  return fd;
}

/// Under the registry lock: clear what containers whose supervisor died (kill -9) left behind. Their mount
/// namespaces went with them; state dirs, cgroups and names are ours to remove.
void sweep_dead() {
  std::string base = containers_dir();
  for (const auto& id : entries(base)) {
    if (id[0] == '.' || alive(base + "/" + id)) continue;
    Cgroup::remove_stale(id);
    (void)remove_tree(base + "/" + id);
  }
  std::string names = base + "/" + kNames;
  for (const auto& n : entries(names)) {
    std::string owner = read_link(names + "/" + n);
    if (owner.empty() || !alive(base + "/" + owner)) ::unlink((names + "/" + n).c_str());
  }
}

}  // namespace

Result<StateDir> StateDir::create(const ContainerSpec& spec) {
  UniqueFd registry = TRY(lock_registry());
  sweep_dead();
  StateDir s;
  s.m_path = state_dir_of(spec.id);
  if (::mkdir(s.m_path.c_str(), 0700) < 0) return sys_error("create " + s.m_path);
  auto fd = open_fd(s.m_path, O_RDONLY | O_DIRECTORY);
  if (!fd || ::flock(fd->get(), LOCK_EX) < 0) {
    (void)remove_tree(s.m_path);
    return sys_error("lock " + s.m_path);
  }
  s.m_lock = std::move(*fd);
  // The name is a symlink .names/NAME -> ID; after the sweep, one that exists belongs to a live container.
  std::string link = containers_dir() + "/" + kNames + "/" + spec.name;
  if (::symlink(spec.id.c_str(), link.c_str()) < 0) {
    int e = errno;
    s.remove_dir_only();
    if (e != EEXIST) return sys_error("reserve the container name " + spec.name);
    return make_error(ErrorCode::conflict, "the container name \"" + spec.name + "\" is already in use by " +
                                               read_link(link).substr(0, 12) + " (choose another --name)");
  }
  s.m_name_link = link;
  return s;
}

Status StateDir::save(const ContainerState& st) const {
  nlohmann::json j = {{"id", st.id},
                      {"name", st.name},
                      {"image", st.image},
                      {"created", st.created},
                      {"args", st.args},
                      {"pid", st.pid},
                      {"stop_signal", st.stop_signal},
                      {"log_path", st.log_path},
                      {"env", st.env},
                      {"user", st.user},
                      {"cwd", st.cwd},
                      {"seccomp_profile", st.seccomp_profile},
                      {"cap_add", st.cap_add},
                      {"cap_drop", st.cap_drop}};
  // Runtime state (under /run, tmpfs) lives no longer than the container: atomic, but no fsync.
  TRY_CTX(cas::write_file_atomic(m_path + "/state.json", j.dump(), /*durable=*/false), "save container state");
  return {};
}

void StateDir::remove_dir_only() {
  if (m_path.empty()) return;
  (void)remove_tree(m_path);
  m_lock.reset();
  m_path.clear();
}

void StateDir::remove() {
  // The name goes first, while the lock still says it is ours.
  if (!m_name_link.empty()) ::unlink(m_name_link.c_str());
  m_name_link.clear();
  remove_dir_only();
}

Result<std::vector<ContainerState>> list_containers() {
  std::vector<ContainerState> out;
  std::string base = containers_dir();
  if (!path_exists(base)) return out;
  if (auto registry = lock_registry()) sweep_dead();
  for (const auto& id : entries(base)) {
    std::string dir = base + "/" + id;
    if (id[0] == '.' || !alive(dir)) continue;
    auto st = load_state(dir);
    if (st) out.push_back(std::move(*st));
  }
  return out;
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

}  // namespace kiln::runtime
