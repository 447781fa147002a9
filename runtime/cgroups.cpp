// Cgroups v1/v2.
#include "runtime/cgroups.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <sstream>

#include "common/fd.h"
#include "common/identity.h"
#include "common/number.h"
#include "runtime/devices.h"

namespace kiln::runtime {

namespace {

/// --cpus as a CFS quota per 100 ms period, rounded (without libm: kiln does not load it for one call).
long cpu_quota(double cpus) { return static_cast<long>(cpus * 100000 + 0.5); }

constexpr const char* kBase = "/sys/fs/cgroup";
/// In cgroup v2, the containers' cgroups live in this one below kiln's own, which holds the device filter.
constexpr const char* kContainersCgroup = "kiln";


bool is_v2_root(const std::string& dir) { return path_exists(dir + "/cgroup.controllers"); }

Status write_value(const std::string& file, const std::string& value) {
  UniqueFd fd = TRY(open_fd(file, O_WRONLY));
  if (auto st = write_all(fd.get(), value); !st) return std::move(st).error().context("cgroup " + file);
  return {};
}

/// The leaf enable_for_children moves a cgroup's own processes into.
constexpr const char* kProcsLeaf = "kiln-procs";

/// The cgroup below which the containers' cgroups go: the hierarchy's root for root; a rootless kiln's delegated
/// cgroup (its own, or the parent of its own when kiln runs in the kiln-procs leaf an earlier kiln made there).
std::string v2_containers_base(const std::string& v2, const std::string& own_dir) {
  if (in_initial_user_namespace()) return v2;
  std::string leaf = std::string("/") + kProcsLeaf;
  if (own_dir.size() > leaf.size() && own_dir.ends_with(leaf)) return own_dir.substr(0, own_dir.size() - leaf.size());
  return own_dir;
}

/// The v2 cgroup that holds the containers' kiln-<id> cgroups, given kiln's own (own_dir). cgroup v2 lets a
/// cgroup hand controllers to its children only while it holds no process itself, and kiln's own cgroup holds
/// kiln (and, from a login, the user's shell): below it no --memory could ever apply. So root keeps them below
/// the hierarchy's root, as docker keeps /docker, which is kiln's own cgroup whenever kiln runs in a cgroup
/// namespace or at the root. A rootless kiln can only use the subtree delegated to it.
std::string v2_containers_parent(const std::string& v2, const std::string& own_dir) {
  return v2_containers_base(v2, own_dir) + "/" + kContainersCgroup;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> cgroups_of(const std::string& proc) {
  std::vector<std::pair<std::string, std::string>> out;
  auto text = read_file("/proc/" + proc + "/cgroup");
  if (!text) return out;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    out.emplace_back(line.substr(a + 1, b - a - 1), line.substr(b + 1));
  }
  return out;
}

std::set<std::string> controllers_in(const std::string& file) {
  std::set<std::string> out;
  auto text = read_file(file);
  if (!text) return out;
  std::istringstream in(*text);
  std::string c;
  while (in >> c) out.insert(c);
  return out;
}

Result<Cgroup> Cgroup::create(const std::string& id, const ContainerSpec& spec) {
  Cgroup cg;
  std::string leaf = "kiln-" + id.substr(0, 16);
  auto own = cgroups_of("self");
  auto path_for = [&](const std::string& ctrl) -> std::string {
    for (const auto& [ctrls, p] : own) {
      std::istringstream in(ctrls);
      std::string c;
      while (std::getline(in, c, ','))
        if (c == ctrl) return p;
    }
    return "/";
  };
  std::string v2 = cgroup_v2_mount();
  std::string v2_path;
  for (const auto& [ctrls, p] : own)
    if (ctrls.empty()) v2_path = p;
  std::string v2_dir = v2.empty() ? "" : v2 + (v2_path == "/" ? "" : v2_path);
  auto fail = [&](Error e) {
    cg.destroy();
    return e;
  };
  auto make = [&](const std::string& dir) -> Status {
    if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) return sys_error("create cgroup " + dir);
    cg.m_dirs.push_back(dir);
    return {};
  };
  // v2 for whatever it offers; v1 controllers for the rest.
  bool limits = spec.memory_bytes > 0 || spec.pids_limit > 0 || spec.cpus > 0;
  // In a user namespace (rootless): only a cgroup v2 subtree delegated to it (its own cgroup, writable) is ours.
  // Without one, the container stays in kiln's cgroup, which is fine until a limit is asked for. The device filter
  // needs the host's privileges, and a user namespace cannot make device nodes anyway.
  bool delegated = !v2_dir.empty() && ::access(v2_dir.c_str(), W_OK) == 0 &&
                   ::access((v2_dir + "/cgroup.subtree_control").c_str(), W_OK) == 0;
  if (!in_initial_user_namespace() && !delegated) {
    if (!limits) return cg;
    return make_error(ErrorCode::unsupported,
                      "--memory, --pids-limit and --cpus need a delegated cgroup v2 subtree, and this user has none "
                      "(systemd delegates one: systemd-run --user --scope -p Delegate=yes kiln run ...)");
  }
  std::string base = v2_dir.empty() ? "" : v2_containers_base(v2, v2_dir);
  std::string parent = v2_dir.empty() ? "" : base + "/" + kContainersCgroup;
  if (!v2_dir.empty()) {
    std::string dir = parent + "/" + leaf;
    bool made = ::mkdir(dir.c_str(), 0755) == 0;
    if (!made && errno == ENOENT) {  // the first container below this cgroup: the parent first
      if (::mkdir(parent.c_str(), 0755) < 0 && errno != EEXIST) return fail(sys_error("create cgroup " + parent));
      made = ::mkdir(dir.c_str(), 0755) == 0;
    }
    if (!made && errno != EEXIST) return fail(sys_error("create cgroup " + dir));
    cg.m_dirs.push_back(dir);
    cg.m_v2_dir = dir;
    cg.m_v2_fd = UniqueFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (cg.m_v2_fd.get() < 0) return fail(sys_error("open cgroup " + dir));
    if (in_initial_user_namespace()) {  // the device filter sits on the parent
      cg.m_v2_parent_fd = UniqueFd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (cg.m_v2_parent_fd.get() < 0) return fail(sys_error("open cgroup " + parent));
    }
  }
  // The parent hands its children the controllers it has itself (cgroup.controllers) once they are enabled
  // in its cgroup.subtree_control.
  // Controllers go down the tree one level at a time: base hands them to kiln/, kiln/ to the container's.
  if (!parent.empty() && limits) {
    auto at_base = controllers_in(base + "/cgroup.controllers");
    auto handed = controllers_in(base + "/cgroup.subtree_control");
    for (const auto& [ctrl, wanted] : {std::pair<const char*, bool>{"memory", spec.memory_bytes > 0},
                                       {"pids", spec.pids_limit > 0},
                                       {"cpu", spec.cpus > 0}})
      if (wanted && at_base.count(ctrl) && !handed.count(ctrl)) (void)enable_for_children(base, ctrl);
  }
  auto offered = parent.empty() || !limits ? std::set<std::string>{} : controllers_in(parent + "/cgroup.controllers");
  for (const auto& [ctrl, wanted] : {std::pair<const char*, bool>{"memory", spec.memory_bytes > 0},
                                     {"pids", spec.pids_limit > 0},
                                     {"cpu", spec.cpus > 0}})
    if (wanted && offered.count(ctrl) && !write_value(parent + "/cgroup.subtree_control", std::string("+") + ctrl))
      offered.erase(ctrl);
  bool v2_mem = offered.count("memory") > 0, v2_pids = offered.count("pids") > 0, v2_cpu = offered.count("cpu") > 0;
  if (!v2_dir.empty()) {
    std::string dir = cg.m_v2_dir;
    if (spec.memory_bytes > 0 && v2_mem) {
      if (auto st = write_value(dir + "/memory.max", std::to_string(spec.memory_bytes)); !st) return fail(st.error());
      (void)write_value(dir + "/memory.swap.max", "0");
    }
    if (spec.pids_limit > 0 && v2_pids)
      if (auto st = write_value(dir + "/pids.max", std::to_string(spec.pids_limit)); !st) return fail(st.error());
    if (spec.cpus > 0 && v2_cpu)
      if (auto st = write_value(dir + "/cpu.max", std::to_string(cpu_quota(spec.cpus)) + " 100000"); !st)
        return fail(st.error());
  }
  if (v2_dir.empty() && in_initial_user_namespace()) {
    // No cgroup v2 at all (a v1-only host): docker's device allow list through the v1 devices controller.
    std::string root = std::string(kBase) + "/devices";
    if (!path_exists(root + "/devices.allow"))
      return fail(make_error(ErrorCode::unsupported,
                             "cannot restrict the container's devices: no cgroup v2 and no devices controller"));
    std::string p = path_for("devices");
    std::string dir = root + (p == "/" ? "" : p) + "/" + leaf;
    if (auto st = make(dir); !st) return fail(st.error());
    Status st = write_value(dir + "/devices.deny", "a");
    for (const char* rule : v1_device_rules())
      if (st) st = write_value(dir + "/devices.allow", rule);
    if (!st) return fail(st.error());
  }
  struct V1 {
    const char* ctrl;
    bool needed;
  };
  for (V1 v : {V1{"memory", spec.memory_bytes > 0 && !v2_mem}, V1{"pids", spec.pids_limit > 0 && !v2_pids},
               V1{"cpu", spec.cpus > 0 && !v2_cpu}}) {
    if (!v.needed) continue;
    if (!in_initial_user_namespace())
      return fail(make_error(ErrorCode::unsupported, std::string("cannot limit ") + v.ctrl +
                                                         ": the user's delegated cgroup does not offer the " + v.ctrl +
                                                         " controller"));
    std::string root = std::string(kBase) + "/" + v.ctrl;
    if (!path_exists(root + "/cgroup.procs"))
      return fail(make_error(ErrorCode::unsupported, std::string("cannot limit ") + v.ctrl + ": no " + v.ctrl +
                                                         " cgroup controller on this host"));
    std::string p = path_for(v.ctrl);
    std::string dir = root + (p == "/" ? "" : p) + "/" + leaf;
    if (auto st = make(dir); !st) return fail(st.error());
    Status st;
    if (std::string(v.ctrl) == "memory") {
      st = write_value(dir + "/memory.limit_in_bytes", std::to_string(spec.memory_bytes));
      if (st && path_exists(dir + "/memory.memsw.limit_in_bytes"))
        (void)write_value(dir + "/memory.memsw.limit_in_bytes", std::to_string(spec.memory_bytes));
    } else if (std::string(v.ctrl) == "pids") {
      st = write_value(dir + "/pids.max", std::to_string(spec.pids_limit));
    } else {
      st = write_value(dir + "/cpu.cfs_period_us", "100000");
      if (st) st = write_value(dir + "/cpu.cfs_quota_us", std::to_string(cpu_quota(spec.cpus)));
    }
    if (!st) return fail(st.error());
  }
  return cg;
}

std::string cgroup_v2_mount() {
  if (is_v2_root(kBase)) return kBase;
  if (is_v2_root(std::string(kBase) + "/unified")) return std::string(kBase) + "/unified";
  return "";
}

Status enable_for_children(const std::string& dir, const std::string& controller) {
  std::string file = dir + "/cgroup.subtree_control", line = "+" + controller;
  Status st = write_value(file, line);
  if (st || st.error().sys_errno != EBUSY) return st;
  std::string leaf = dir + "/" + kProcsLeaf;
  if (::mkdir(leaf.c_str(), 0755) < 0 && errno != EEXIST) return sys_error("create cgroup " + leaf);
  for (int round = 0; round < 3; ++round) {  // again for a process forked while they moved
    auto procs = read_file(dir + "/cgroup.procs");
    if (!procs || procs->empty()) break;
    std::istringstream in(*procs);
    pid_t pid = 0;
    while (in >> pid) (void)write_value(leaf + "/cgroup.procs", std::to_string(pid));  // one gone meanwhile
  }
  return write_value(file, line);
}

uint64_t Cgroup::oom_kills() const {
  uint64_t n = 0;
  for (const auto& d : m_dirs)
    for (const char* f : {"memory.events", "memory.oom_control"}) {
      auto text = read_file(d + "/" + f, 4096);
      if (!text) continue;
      size_t at = text->find("oom_kill ");
      if (at == std::string::npos) continue;
      size_t end = text->find('\n', at);
      if (auto v = parse_uint(text->substr(at + 9, end == std::string::npos ? std::string::npos : end - at - 9)))
        n += *v;
    }
  return n;
}

Status Cgroup::join(pid_t pid, bool skip_v2) const {
  // Writing cgroup.procs waits for an RCU grace period on the v2 hierarchy (bench/PERFORMANCE.md), which is why
  // run_container prefers to clone straight into the v2 cgroup.
  for (const auto& d : m_dirs)
    if (!(skip_v2 && d == m_v2_dir)) TRY(write_value(d + "/cgroup.procs", std::to_string(pid)));
  // Found on the parent (or attached there, the first time): done here, while the child builds its root.
  if (m_v2_parent_fd.valid()) TRY(ensure_device_filter(m_v2_parent_fd.get()));
  return {};
}

namespace {

/// Sends SIGKILL to whatever is still in a cgroup: cgroup.kill where the kernel has it (v2, 5.14), else each
/// process cgroup.procs lists.
void kill_members(const std::string& dir) {
  if (write_value(dir + "/cgroup.kill", "1")) return;
  auto procs = read_file(dir + "/cgroup.procs");
  if (!procs) return;
  std::istringstream in(*procs);
  pid_t pid = 0;
  while (in >> pid)
    if (pid > 0) ::kill(pid, SIGKILL);
}

/// rmdir a container's cgroup while the kernel finishes reaping its last processes (up to 2 s); kill_first
/// for a container that is over, whose processes are dying but may not be gone yet, or that left one outside
/// its pid namespace in the cgroup (an exec's).
bool remove_dir_waiting(const std::string& dir, bool kill_first) {
  for (int i = 0; i < 400; ++i) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
    if (errno != EBUSY) return false;
    if (kill_first && i == 0) kill_members(dir);
    ::usleep(5000);
  }
  return false;
}

}  // namespace

void Cgroup::destroy() {
  // The container is over: whatever is still in its cgroup is killed rather than left to keep the cgroup.
  for (auto it = m_dirs.rbegin(); it != m_dirs.rend(); ++it) remove_dir_waiting(*it, true);
  m_dirs.clear();
  m_v2_dir.clear();
  m_v2_fd.reset();
  m_v2_parent_fd.reset();
}

namespace {

/// The directories kiln makes its kiln-<id> cgroups in: the `kiln` cgroup in v2 (at the root, or below this
/// process's own cgroup) and this process's own cgroup in the v1 hierarchies of the controllers it may use.
std::vector<std::string> kiln_parents() {
  std::vector<std::string> out;
  std::string v2 = cgroup_v2_mount();
  for (const auto& [ctrls, p] : cgroups_of("self")) {
    std::string sub = p == "/" ? "" : p;
    if (ctrls.empty()) {
      if (v2.empty()) continue;
      std::string now = v2_containers_parent(v2, v2 + sub), below_own = v2 + sub + "/" + kContainersCgroup;
      out.push_back(now);
      if (below_own != now) out.push_back(below_own);  // where earlier kilns made them
      out.push_back(v2 + sub);                         // and still earlier ones
      continue;
    }
    std::istringstream in(ctrls);
    std::string c;
    while (std::getline(in, c, ','))
      if (c == "memory" || c == "pids" || c == "cpu" || c == "devices")
        out.push_back(std::string(kBase) + "/" + c + sub);
  }
  return out;
}

}  // namespace

bool Cgroup::remove_stale(const std::string& id) {
  std::string leaf = "/kiln-" + id.substr(0, 16);
  bool all = true;
  for (const auto& parent : kiln_parents()) all = remove_dir_waiting(parent + leaf, true) && all;
  return all;
}

size_t Cgroup::remove_orphans(const std::vector<std::string>& live_ids) {
  size_t removed = 0;
  for (const auto& parent : kiln_parents()) {
    auto names = list_dir(parent);
    if (!names) continue;
    for (const auto& n : *names) {
      if (n.size() != 5 + 16 || !n.starts_with("kiln-")) continue;
      bool live = false;
      for (const auto& id : live_ids) live |= id.compare(0, 16, n, 5, 16) == 0;
      // rmdir refuses a cgroup that still has processes or children: nothing alive is touched.
      if (!live && ::rmdir((parent + "/" + n).c_str()) == 0) ++removed;
    }
  }
  return removed;
}

std::vector<std::string> Cgroup::dirs_of(pid_t pid) {
  std::vector<std::string> out;
  std::string v2 = cgroup_v2_mount();
  for (const auto& [ctrls, path] : cgroups_of(std::to_string(pid))) {
    if (path.find("/kiln-") == std::string::npos) continue;
    if (ctrls.empty()) {
      if (!v2.empty()) out.push_back(v2 + path);
    } else if (ctrls.find("name=") == std::string::npos) {
      out.push_back(std::string(kBase) + "/" + ctrls.substr(0, ctrls.find(',')) + path);
    }
  }
  return out;
}

}  // namespace kiln::runtime
