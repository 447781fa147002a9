// Container state registry.
#include "runtime/state.h"

#include <dirent.h>
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

}  // namespace

Result<StateDir> StateDir::create(const ContainerSpec& spec) {
  TRY(make_dirs(containers_dir() + "/" + kNames, 0700));
  StateDir s;
  s.m_path = state_dir_of(spec.id);
  if (::mkdir(s.m_path.c_str(), 0700) < 0) return sys_error("create " + s.m_path);
  auto fd = open_fd(s.m_path, O_RDONLY | O_DIRECTORY);
  if (!fd || ::flock(fd->get(), LOCK_EX) < 0) {
    (void)remove_tree(s.m_path);
    return sys_error("lock " + s.m_path);
  }
  s.m_lock = std::move(*fd);
  // The name is a symlink .names/NAME -> ID, made under a lock on .names (so two runs with one --name cannot
  // both win); one left by a container whose supervisor is gone is taken over.
  std::string names = containers_dir() + "/" + kNames;
  auto names_fd = open_fd(names, O_RDONLY | O_DIRECTORY);
  if (!names_fd || ::flock(names_fd->get(), LOCK_EX) < 0) {
    s.remove_dir_only();
    return sys_error("lock " + names);
  }
  std::string link = names + "/" + spec.name;
  for (int attempt = 0;; ++attempt) {
    if (::symlink(spec.id.c_str(), link.c_str()) == 0) break;
    int e = errno;
    std::string owner = e == EEXIST ? read_link(link) : "";
    if (e != EEXIST || attempt > 0 || (!owner.empty() && alive(state_dir_of(owner)))) {
      s.remove_dir_only();
      if (e != EEXIST) return sys_error("reserve the container name " + spec.name);
      return make_error(ErrorCode::conflict, "the container name \"" + spec.name + "\" is already in use by " +
                                                 owner.substr(0, 12) + " (choose another --name)");
    }
    ::unlink(link.c_str());
  }
  s.m_name_link = link;
  return s;
}

Status StateDir::save(const ContainerState& st) const {
  nlohmann::json j = {{"id", st.id}, {"name", st.name}, {"image", st.image}, {"created", st.created},
                      {"args", st.args}, {"pid", st.pid}, {"stop_signal", st.stop_signal}, {"log_path", st.log_path},
                      {"env", st.env}, {"user", st.user}, {"cwd", st.cwd}, {"seccomp_profile", st.seccomp_profile},
                      {"cap_add", st.cap_add}, {"cap_drop", st.cap_drop}};
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
  DIR* d = ::opendir(base.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    return sys_error("open " + base);
  }
  std::vector<std::string> ids;
  while (struct dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ids.push_back(e->d_name);
  ::closedir(d);
  // Names of containers whose supervisor is gone (under the names lock, as a new container takes its name).
  auto names_fd = open_fd(base + "/" + kNames, O_RDONLY | O_DIRECTORY);
  if (names_fd && ::flock(names_fd->get(), LOCK_EX) == 0) {
    auto links = list_dir(base + "/" + kNames);
    for (const auto& n : links ? *links : std::vector<std::string>{}) {
      std::string link = base + "/" + kNames + "/" + n;
      std::string owner = read_link(link);
      if (!owner.empty() && !alive(base + "/" + owner)) ::unlink(link.c_str());
    }
  }
  for (const auto& id : ids) {
    std::string dir = base + "/" + id;
    if (!alive(dir)) {
      // Its supervisor died (kill -9): the mount namespace went with the container, the rest is ours to clear.
      Cgroup::remove_stale(id);
      (void)remove_tree(dir);
      continue;
    }
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
  if (!found) return make_error(ErrorCode::not_found, "no such container: " + key + " (kiln ps lists running containers)");
  return *found;
}

}  // namespace kiln::runtime
