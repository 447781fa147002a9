// kiln-runtime's cgroups: make, limit, update, freeze, remove.
#include "runtime/bundle_cgroups.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <tuple>

#include "common/fd.h"
#include "common/identity.h"
#include "common/number.h"
#include "runtime/cgroups.h"
#include "runtime/devices.h"

namespace kiln::runtime {

namespace {

bool is_v2_dir(const std::string& dir) { return path_exists(dir + "/cgroup.controllers"); }

/// mkdir -p of rel below base; with controllers, each level's children are given them on the way.
Result<std::string> make_cgroup_dir(const std::string& base, const std::string& rel,
                                    const std::vector<std::string>& controllers = {}) {
  std::string dir = base;
  size_t pos = 0;
  while (pos <= rel.size()) {
    size_t next = rel.find('/', pos);
    std::string comp = rel.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    if (!controllers.empty())  // a no-op where one is on already; one v1 holds is refused, and its limit goes there
      if (auto fd = open_fd(dir + "/cgroup.subtree_control", O_WRONLY | O_CLOEXEC))
        for (const auto& ctl : controllers) (void)!::write(fd->get(), ("+" + ctl).data(), ctl.size() + 1);
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

using Setting = std::pair<std::string, std::string>;  ///< a cgroup file and the value written to it

/// One limit: the v2 files that can hold it (the first the cgroup has is written), else the v1 controller's.
struct Limit {
  std::string field;  ///< the config's name for it, in errors
  std::vector<Setting> v2;
  std::string v1_controller;
  std::vector<Setting> v1;
  bool optional = false;  ///< skipped where the host has no file for it (a default, not something asked for)
};

/// v2's io.weight (1-10000) from a blkio weight (10-1000), as runc converts it.
int64_t io_weight(int64_t blkio) { return 1 + (blkio - 10) * 9999 / 990; }

/// The limits in the order they are written. swap_first: memory.memsw before memory.limit on v1, which the
/// kernel needs when the new pair is above the old limit.
Result<std::vector<Limit>> limits_of(const BundleResources& r, bool swap_first = false) {
  std::vector<Limit> out;
  auto n = [](int64_t v) { return std::to_string(v); };
  auto max_or = [&](int64_t v) { return v < 0 ? std::string("max") : n(v); };
  auto set = [](std::string file, std::string value) {
    return std::vector<Setting>{{std::move(file), std::move(value)}};
  };

  std::optional<Limit> swap;
  int64_t mem = r.memory_limit.value_or(0);
  if (r.memory_swap && *r.memory_swap != 0) {
    int64_t sw = *r.memory_swap;
    if (sw > 0 && mem <= 0)
      return make_error(ErrorCode::invalid_argument,
                        "linux.resources.memory.swap: a swap limit needs a memory limit (memory.limit) beside it");
    if (sw > 0 && sw < mem)
      return make_error(ErrorCode::invalid_argument, "linux.resources.memory.swap: " + n(sw) +
                                                         " is below the memory limit " + n(mem) +
                                                         " (it is memory and swap together)");
    swap = Limit{"memory.swap", set("memory.swap.max", sw < 0 ? "max" : n(sw - mem)), "memory",
                 set("memory.memsw.limit_in_bytes", n(sw))};
  } else if (mem == -1) {  // unlimited memory, swap not said: unlimited too, where the host accounts swap
    swap =
        Limit{"memory.swap", set("memory.swap.max", "max"), "memory", set("memory.memsw.limit_in_bytes", "-1"), true};
  }
  if (swap && swap_first) out.push_back(*swap);
  if (mem != 0)
    out.push_back({"memory.limit", set("memory.max", max_or(mem)), "memory", set("memory.limit_in_bytes", n(mem))});
  if (swap && !swap_first) out.push_back(*swap);
  if (r.memory_reservation && *r.memory_reservation != 0)
    out.push_back({"memory.reservation", set("memory.low", max_or(*r.memory_reservation)), "memory",
                   set("memory.soft_limit_in_bytes", n(*r.memory_reservation))});
  if (r.memory_kernel_tcp && *r.memory_kernel_tcp != 0)
    out.push_back({"memory.kernelTCP", {}, "memory", set("memory.kmem.tcp.limit_in_bytes", n(*r.memory_kernel_tcp))});
  if (r.memory_swappiness)
    out.push_back({"memory.swappiness", {}, "memory", set("memory.swappiness", n(*r.memory_swappiness))});
  if (r.disable_oom_killer) out.push_back({"memory.disableOOMKiller", {}, "memory", set("memory.oom_control", "1")});

  if (r.pids_limit && *r.pids_limit != 0)
    out.push_back(
        {"pids.limit", set("pids.max", max_or(*r.pids_limit)), "pids", set("pids.max", max_or(*r.pids_limit))});
  if (r.cpu_shares && *r.cpu_shares > 0)  // v2's weight from v1's shares, as runc converts it
    out.push_back({"cpu.shares", set("cpu.weight", n(1 + ((std::max<int64_t>(*r.cpu_shares, 2) - 2) * 9999) / 262142)),
                   "cpu", set("cpu.shares", n(*r.cpu_shares))});
  if (r.cpu_period && *r.cpu_period > 0 && !r.cpu_quota)
    out.push_back({"cpu.period", {}, "cpu", set("cpu.cfs_period_us", n(*r.cpu_period))});
  if (r.cpu_quota && *r.cpu_quota != 0) {
    int64_t period = r.cpu_period && *r.cpu_period > 0 ? *r.cpu_period : 100000;
    if (r.cpu_period && *r.cpu_period > 0)
      out.push_back({"cpu.period", {}, "cpu", set("cpu.cfs_period_us", n(period))});
    out.push_back({"cpu.quota", set("cpu.max", max_or(*r.cpu_quota) + " " + n(period)), "cpu",
                   set("cpu.cfs_quota_us", n(*r.cpu_quota))});
  }
  if (r.cpu_rt_period && *r.cpu_rt_period > 0)
    out.push_back({"cpu.realtimePeriod", {}, "cpu", set("cpu.rt_period_us", n(*r.cpu_rt_period))});
  if (r.cpu_rt_runtime && *r.cpu_rt_runtime != 0)
    out.push_back({"cpu.realtimeRuntime", {}, "cpu", set("cpu.rt_runtime_us", n(*r.cpu_rt_runtime))});
  if (r.cpuset_cpus && !r.cpuset_cpus->empty())
    out.push_back({"cpu.cpus", set("cpuset.cpus", *r.cpuset_cpus), "cpuset", set("cpuset.cpus", *r.cpuset_cpus)});
  if (r.cpuset_mems && !r.cpuset_mems->empty())
    out.push_back({"cpu.mems", set("cpuset.mems", *r.cpuset_mems), "cpuset", set("cpuset.mems", *r.cpuset_mems)});

  // Block I/O: a weight where the I/O scheduler takes one (bfq's, else io.cost's), throttles per device.
  if (r.blkio_weight)
    out.push_back({"blockIO.weight",
                   {{"io.bfq.weight", n(*r.blkio_weight)}, {"io.weight", "default " + n(io_weight(*r.blkio_weight))}},
                   "blkio",
                   {{"blkio.weight", n(*r.blkio_weight)}, {"blkio.bfq.weight", n(*r.blkio_weight)}}});
  if (r.blkio_leaf_weight)
    out.push_back({"blockIO.leafWeight", {}, "blkio", set("blkio.leaf_weight", n(*r.blkio_leaf_weight))});
  auto dev = [&](const BundleResources::DeviceValue& d) { return n(d.major) + ":" + n(d.minor); };
  for (const auto& d : r.blkio_weight_device)
    out.push_back(
        {"blockIO.weightDevice",
         {{"io.bfq.weight", dev(d) + " " + n(d.value)}, {"io.weight", dev(d) + " " + n(io_weight(d.value))}},
         "blkio",
         {{"blkio.weight_device", dev(d) + " " + n(d.value)}, {"blkio.bfq.weight_device", dev(d) + " " + n(d.value)}}});
  for (const auto& d : r.blkio_leaf_weight_device)
    out.push_back(
        {"blockIO.weightDevice.leafWeight", {}, "blkio", set("blkio.leaf_weight_device", dev(d) + " " + n(d.value))});
  // 0 lifts a throttle: v1 drops the rule on 0, v2 takes "max"
  for (auto [list, key, v1_file] : {std::tuple{&r.throttle_read_bps, "rbps", "blkio.throttle.read_bps_device"},
                                    std::tuple{&r.throttle_write_bps, "wbps", "blkio.throttle.write_bps_device"},
                                    std::tuple{&r.throttle_read_iops, "riops", "blkio.throttle.read_iops_device"},
                                    std::tuple{&r.throttle_write_iops, "wiops", "blkio.throttle.write_iops_device"}})
    for (const auto& d : *list)
      out.push_back({std::string("blockIO.throttle (") + key + ")",
                     set("io.max", dev(d) + " " + key + "=" + (d.value == 0 ? std::string("max") : n(d.value))),
                     "blkio", set(v1_file, dev(d) + " " + n(d.value))});

  for (const auto& [size, limit] : r.hugepage_limits)
    out.push_back({"hugepageLimits." + size, set("hugetlb." + size + ".max", n(limit)), "hugetlb",
                   set("hugetlb." + size + ".limit_in_bytes", n(limit))});
  for (const auto& [file, value] : r.unified) out.push_back({"unified." + file, {{file, value}}, "", {}});
  return out;
}

/// The v2 controllers the limits need, beside the ones every container's cgroup is given.
std::vector<std::string> controllers_for(const std::vector<Limit>& limits) {
  std::vector<std::string> out = {"memory", "pids", "cpu"};
  for (const auto& l : limits)
    for (const auto& [file, value] : l.v2) {
      std::string ctl = file.substr(0, file.find('.'));
      if (ctl != "cgroup" && std::find(out.begin(), out.end(), ctl) == out.end()) out.push_back(ctl);
    }
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
    std::string dir = TRY(make_cgroup_dir(v2, rel, controllers_for(TRY(limits_of(r)))));
    made.push_back(dir);
    UniqueFd cg = TRY(open_fd(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    TRY_CTX(attach_device_rules(cg.get(), devices), "cgroup " + dir);
  }
  // A host with the v1 devices controller (hybrid, or v1 alone) gets the same policy there too.
  if (path_exists("/sys/fs/cgroup/devices/cgroup.procs")) {
    std::string dir = TRY(make_cgroup_dir("/sys/fs/cgroup/devices", rel));
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

/// The files a limit could go to, for its error: "memory.swap.max (v2) or memory.memsw.limit_in_bytes (v1)".
std::string candidates(const Limit& l) {
  std::string out;
  auto add = [&](const std::vector<Setting>& list, const char* which) {
    for (const auto& [file, value] : list) out += (out.empty() ? "" : " or ") + file + " (" + which + ")";
  };
  add(l.v2, "v2");
  add(l.v1, "v1");
  return out;
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
  auto limits = limits_of(r);
  if (!limits) return std::move(limits).error();
  if (!limits->empty())
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
  // v1 takes memory and swap in the order that keeps memsw >= limit at each step (runc's rule).
  bool swap_first = false;
  if (r.memory_limit && r.memory_swap && *r.memory_swap != 0) {
    auto cur = read_file("/sys/fs/cgroup/memory/" + rel + "/memory.limit_in_bytes", 64);
    auto now = cur ? parse_uint(cur->substr(0, cur->find('\n')), UINT64_MAX) : std::nullopt;
    swap_first = *r.memory_swap == -1 || (now && *now < static_cast<uint64_t>(*r.memory_swap));
  }
  std::string v2_dir = !dirs.empty() && is_v2_dir(dirs[0]) ? dirs[0] : "";
  for (const auto& l : TRY(limits_of(r, swap_first))) {
    auto write_first = [&](const std::string& dir, const std::vector<Setting>& list) -> std::optional<Status> {
      for (const auto& [file, value] : list)
        if (path_exists(dir + "/" + file)) return write_limit(dir, file, value);
      return std::nullopt;
    };
    if (!v2_dir.empty())
      if (auto st = write_first(v2_dir, l.v2)) {
        TRY(std::move(*st));
        continue;
      }
    std::string base = "/sys/fs/cgroup/" + l.v1_controller;
    if (l.v1.empty() || !path_exists(base + "/cgroup.procs")) {
      if (l.optional) continue;
      bool in_v2 =
          !v2_dir.empty() && !l.v2.empty() &&
          controllers_in(v2_dir + "/cgroup.controllers").count(l.v2[0].first.substr(0, l.v2[0].first.find('.')));
      return make_error(ErrorCode::unsupported,
                        "linux.resources." + l.field + ": the host has no " + candidates(l) + " for this container (" +
                            (in_v2          ? "its kernel lacks the setting"
                             : l.v1.empty() ? "its controller is not in cgroup v2 here"
                                            : "its controller is in neither cgroup v2 nor v1 here") +
                            "); remove the setting or run on a host that has it");
    }
    std::string dir = TRY(make_cgroup_dir(base, rel));
    if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) {
      dirs.push_back(dir);
      // A controller first limited by update: the container's processes join it now.
      if (!dirs.empty() && dirs[0] != dir)
        if (auto pids = bundle_cgroup_pids(dirs))
          for (pid_t p : *pids) (void)write_limit(dir, "cgroup.procs", std::to_string(p));
    }
    if (auto st = write_first(dir, l.v1)) {
      TRY(std::move(*st));
    } else if (!l.optional) {
      return make_error(ErrorCode::unsupported, "linux.resources." + l.field + ": the host has no " + candidates(l) +
                                                    " for this container (its kernel, or the disk's I/O scheduler, "
                                                    "lacks the setting); remove it or run on a host that has it");
    }
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
