// kiln-runtime's cgroups: make, limit, update, freeze, remove.
#include "runtime/bundle_cgroups.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/fd.h"
#include "common/identity.h"
#include "common/number.h"
#include "runtime/cgroups.h"
#include "runtime/devices.h"

namespace kiln::runtime {

namespace {

bool is_v2_dir(const std::string& dir) { return path_exists(dir + "/cgroup.controllers"); }

/// mkdir -p of rel below base; with enable, the limit controllers given to each level's children on the way.
Result<std::string> make_cgroup_dir(const std::string& base, const std::string& rel, bool enable) {
  std::string dir = base;
  size_t pos = 0;
  while (pos <= rel.size()) {
    size_t next = rel.find('/', pos);
    std::string comp = rel.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    if (enable)  // a no-op where they are on already; a controller v1 holds is refused, and its limit goes there
      if (auto fd = open_fd(dir + "/cgroup.subtree_control", O_WRONLY | O_CLOEXEC))
        for (const char* ctl : {"+memory", "+pids", "+cpu"}) (void)!::write(fd->get(), ctl, std::strlen(ctl));
    if (!comp.empty()) {
      std::string parent = dir;
      dir += "/" + comp;
      if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) return sys_error("create cgroup " + dir);
      // A v1 cpuset takes no process until it has cpus and mems: a new one starts with its parent's.
      for (const char* f : {"cpuset.cpus", "cpuset.mems"})
        if (path_exists(parent + "/" + f))
          if (auto cur = read_file(dir + "/" + f, 4096); cur && (cur->empty() || *cur == "\n"))
            if (auto from = read_file(parent + "/" + f, 4096))
              if (auto fd = open_fd(dir + "/" + f, O_WRONLY | O_CLOEXEC)) (void)write_all(fd->get(), *from);
    }
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return dir;
}

/// One limit: its v2 file and value, else its v1 controller, file and value ("" where one side has none).
struct Limit {
  std::string v2_file, v2_value, v1_controller, v1_file, v1_value;
};

std::vector<Limit> limits_of(const BundleResources& r) {
  std::vector<Limit> out;
  auto n = [](int64_t v) { return std::to_string(v); };
  auto max_or = [&](int64_t v) { return v < 0 ? std::string("max") : n(v); };
  if (r.memory_limit && *r.memory_limit != 0)
    out.push_back({"memory.max", max_or(*r.memory_limit), "memory", "memory.limit_in_bytes", n(*r.memory_limit)});
  if (r.pids_limit && *r.pids_limit != 0)
    out.push_back({"pids.max", max_or(*r.pids_limit), "pids", "pids.max", max_or(*r.pids_limit)});
  if (r.cpu_shares && *r.cpu_shares > 0)  // v2's weight from v1's shares, as runc converts it
    out.push_back({"cpu.weight", n(1 + ((std::max<int64_t>(*r.cpu_shares, 2) - 2) * 9999) / 262142), "cpu",
                   "cpu.shares", n(*r.cpu_shares)});
  if (r.cpu_period && *r.cpu_period > 0 && !r.cpu_quota)
    out.push_back({"", "", "cpu", "cpu.cfs_period_us", n(*r.cpu_period)});
  if (r.cpu_quota && *r.cpu_quota != 0) {
    int64_t period = r.cpu_period && *r.cpu_period > 0 ? *r.cpu_period : 100000;
    if (r.cpu_period && *r.cpu_period > 0) out.push_back({"", "", "cpu", "cpu.cfs_period_us", n(period)});
    out.push_back({"cpu.max", max_or(*r.cpu_quota) + " " + n(period), "cpu", "cpu.cfs_quota_us", n(*r.cpu_quota)});
  }
  if (r.cpu_rt_period && *r.cpu_rt_period > 0) out.push_back({"", "", "cpu", "cpu.rt_period_us", n(*r.cpu_rt_period)});
  if (r.cpu_rt_runtime && *r.cpu_rt_runtime != 0)
    out.push_back({"", "", "cpu", "cpu.rt_runtime_us", n(*r.cpu_rt_runtime)});
  if (r.cpuset_cpus && !r.cpuset_cpus->empty())
    out.push_back({"cpuset.cpus", *r.cpuset_cpus, "cpuset", "cpuset.cpus", *r.cpuset_cpus});
  if (r.cpuset_mems && !r.cpuset_mems->empty())
    out.push_back({"cpuset.mems", *r.cpuset_mems, "cpuset", "cpuset.mems", *r.cpuset_mems});
  return out;
}

Status write_limit(const std::string& dir, const std::string& file, const std::string& value) {
  UniqueFd fd = TRY_CTX(open_fd(dir + "/" + file, O_WRONLY | O_CLOEXEC), "linux.resources");
  TRY_CTX(write_all(fd.get(), value), "linux.resources: " + file + "=" + value);
  return {};
}

/// A rule as the v1 devices controller reads it: "c 1:3 rwm", "*" for any major or minor.
std::string v1_device_line(const DeviceRule& r) {
  auto num = [](int64_t v) { return v < 0 ? std::string("*") : std::to_string(v); };
  if (r.type == 'a') return "a";
  return std::string(1, r.type) + " " + num(r.major) + ":" + num(r.minor) + " " + r.access;
}

}  // namespace

Result<std::string> bundle_cgroup_path(const std::string& cgroups_path, const std::string& id) {
  std::string rel = cgroups_path.empty() ? "kiln-runtime/" + id : cgroups_path;
  while (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
  if (rel.find(':') != std::string::npos)
    return make_error(ErrorCode::unsupported, "linux.cgroupsPath \"" + cgroups_path +
                                                  "\" is a systemd slice: kiln-runtime has no --systemd-cgroup");
  for (size_t pos = 0; pos <= rel.size();) {  // no way up and out of the hierarchy
    size_t next = rel.find('/', pos);
    if (rel.compare(pos, next == std::string::npos ? std::string::npos : next - pos, "..") == 0)
      return make_error(ErrorCode::unsafe, "linux.cgroupsPath \"" + cgroups_path + "\" leads out of the hierarchy");
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return rel;
}

namespace {

Status make_cgroups_with_rules(const std::string& rel, const BundleResources& r, const std::vector<DeviceRule>& devices,
                               std::vector<std::string>& made) {
  std::string v2 = cgroup_v2_mount();
  if (!v2.empty()) {
    std::string dir = TRY(make_cgroup_dir(v2, rel, true));
    made.push_back(dir);
    UniqueFd cg = TRY(open_fd(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    TRY_CTX(attach_device_rules(cg.get(), devices), "cgroup " + dir);
  }
  // A host with the v1 devices controller (hybrid, or v1 alone) gets the same policy there too.
  if (path_exists("/sys/fs/cgroup/devices/cgroup.procs")) {
    std::string dir = TRY(make_cgroup_dir("/sys/fs/cgroup/devices", rel, false));
    made.push_back(dir);
    DevicePolicy policy = device_policy(devices);
    TRY(write_limit(dir, policy.default_allow ? "devices.allow" : "devices.deny", "a"));
    if (!policy.exceptions.empty()) {  // one rule a write, on one open file
      std::string file = policy.default_allow ? "devices.deny" : "devices.allow";
      UniqueFd fd = TRY_CTX(open_fd(dir + "/" + file, O_WRONLY | O_CLOEXEC), "linux.resources");
      for (const auto& e : policy.exceptions)
        TRY_CTX(write_all(fd.get(), v1_device_line(e)), "linux.resources: " + file + "=" + v1_device_line(e));
    }
  }
  return apply_bundle_resources(rel, r, made);
}

}  // namespace

Status make_bundle_cgroups(const std::string& rel, const BundleResources& r, const std::vector<DeviceRule>& devices,
                           std::vector<std::string>& made) {
  Status st = make_cgroups_with_rules(rel, r, devices, made);
  int e = st ? 0 : st.error().sys_errno;
  if (st || (e != EACCES && e != EPERM && e != EROFS) || (::geteuid() == 0 && in_initial_user_namespace())) return st;
  // An ordinary user, or root of a user namespace (podman rootless runs its runtime so), that may write no
  // cgroup (none is delegated): as runc, the container goes without one unless limits were asked for. Its
  // devices are then a user namespace's: it can make no device node and opens only those bound in for it.
  remove_bundle_cgroups(made);
  made.clear();
  if (!limits_of(r).empty())
    return make_error(ErrorCode::unsupported,
                      "linux.resources: limits need a cgroup this user namespace can write (a delegated cgroup v2 "
                      "subtree): " +
                          std::string(st.error().what()));
  return {};
}

Status apply_bundle_resources(const std::string& rel, const BundleResources& r, std::vector<std::string>& dirs) {
  for (const auto& list : {r.cpuset_cpus, r.cpuset_mems})
    if (list && list->find_first_not_of("0123456789,-") != std::string::npos)
      return make_error(ErrorCode::invalid_argument,
                        "linux.resources.cpu: \"" + *list + "\" is not a list such as 0-2,4");
  std::string v2_dir = !dirs.empty() && is_v2_dir(dirs[0]) ? dirs[0] : "";
  for (const auto& l : limits_of(r)) {
    if (!v2_dir.empty() && !l.v2_file.empty() && path_exists(v2_dir + "/" + l.v2_file)) {
      TRY(write_limit(v2_dir, l.v2_file, l.v2_value));
      continue;
    }
    std::string base = "/sys/fs/cgroup/" + l.v1_controller;
    if (!path_exists(base + "/cgroup.procs"))
      return make_error(ErrorCode::unsupported, "linux.resources: this host has no " + l.v1_controller + " controller");
    std::string dir = TRY(make_cgroup_dir(base, rel, false));
    if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) {
      dirs.push_back(dir);
      // A controller first limited by update: the container's processes join it now.
      if (!dirs.empty() && dirs[0] != dir)
        if (auto pids = bundle_cgroup_pids(dirs))
          for (pid_t p : *pids) (void)write_limit(dir, "cgroup.procs", std::to_string(p));
    }
    TRY(write_limit(dir, l.v1_file, l.v1_value));
  }
  return {};
}

void remove_bundle_cgroups(const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs)
    for (int i = 0; i < 100 && ::rmdir(dir.c_str()) < 0 && errno == EBUSY; ++i) ::usleep(10000);
}

std::optional<std::vector<pid_t>> bundle_cgroup_pids(const std::vector<std::string>& dirs) {
  if (dirs.empty()) return std::nullopt;
  auto text = read_file(dirs[0] + "/cgroup.procs", 1u << 20);
  if (!text) return std::nullopt;
  std::vector<pid_t> out;
  for (size_t pos = 0; pos < text->size();) {
    size_t nl = text->find('\n', pos);
    if (auto p = parse_uint(text->substr(pos, nl - pos), INT32_MAX)) out.push_back(static_cast<pid_t>(*p));
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return out;
}

bool bundle_cgroup_frozen(const std::vector<std::string>& dirs) {
  if (dirs.empty() || !is_v2_dir(dirs[0])) return false;
  auto events = read_file(dirs[0] + "/cgroup.events", 4096);
  return events && events->find("frozen 1") != std::string::npos;
}

Status freeze_bundle_cgroup(const std::vector<std::string>& dirs, bool frozen) {
  if (dirs.empty() || !is_v2_dir(dirs[0]) || !path_exists(dirs[0] + "/cgroup.freeze"))
    return make_error(ErrorCode::unsupported,
                      "pause and resume need cgroup v2's freezer (cgroup.freeze), which this "
                      "container's cgroup lacks");
  TRY(write_limit(dirs[0], "cgroup.freeze", frozen ? "1" : "0"));
  // The kernel freezes asynchronously: cgroup.events says when every process has stopped.
  for (int i = 0; i < 1000; ++i) {
    if (bundle_cgroup_frozen(dirs) == frozen) return {};
    ::usleep(1000);
  }
  return make_error(ErrorCode::generic,
                    std::string("the cgroup ") + dirs[0] + " did not " + (frozen ? "freeze" : "thaw") + " within 1s");
}

}  // namespace kiln::runtime
