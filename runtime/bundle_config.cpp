// config.json → BundleConfig, every field checked.
#include "runtime/bundle_config.h"

#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <functional>

#include <nlohmann/json.hpp>

#include "common/fd.h"
#include "common/json.h"
#include "common/number.h"

namespace kiln::runtime {

namespace {

using nlohmann::json;

/// What went wrong in the config, as one line naming the file and field.
struct Where {
  std::string file;
  Error operator()(const std::string& field, const std::string& what) const {
    return make_error(ErrorCode::invalid_argument, file + ": " + field + ": " + what);
  }
};

Result<std::vector<std::string>> strings_of(const json& j, const char* key, const std::string& field, const Where& w) {
  std::vector<std::string> out;
  if (!j.contains(key) || j.at(key).is_null()) return out;
  const json& a = j.at(key);
  if (!a.is_array()) return w(field, "must be an array of strings");
  for (const auto& e : a) {
    if (!e.is_string()) return w(field, "must be an array of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

Result<std::string> string_of(const json& j, const char* key, const std::string& field, const Where& w,
                              const std::string& def = "") {
  if (!j.contains(key) || j.at(key).is_null()) return def;
  if (!j.at(key).is_string()) return w(field, "must be a string");
  return j.at(key).get<std::string>();
}

/// linux.resources.blockIO: weights (10-1000; absent or 0 is unset) for all devices and per device, and throttles.
Status block_io_of(const json& b, BundleResources& out, const Where& w) {
  if (!b.is_object()) return w("linux.resources.blockIO", "must be an object");
  auto weight = [&](const json& o, const char* key, const std::string& field) -> Result<std::optional<int64_t>> {
    if (!o.contains(key) || o.at(key).is_null()) return std::optional<int64_t>{};
    int64_t v = json_int(o, key, std::nullopt, 0, 1000);
    if (v != 0 && v < 10) return w(field, "must be from 10 to 1000");
    return v == 0 ? std::optional<int64_t>{} : std::optional<int64_t>{v};
  };
  out.blkio_weight = TRY(weight(b, "weight", "linux.resources.blockIO.weight"));
  out.blkio_leaf_weight = TRY(weight(b, "leafWeight", "linux.resources.blockIO.leafWeight"));
  using List = std::vector<BundleResources::DeviceValue>;
  auto devices = [&](const char* key,
                     const std::function<Status(const json&, BundleResources::DeviceValue)>& add) -> Status {
    std::string field = std::string("linux.resources.blockIO.") + key;
    if (!b.contains(key) || b.at(key).is_null()) return {};
    if (!b.at(key).is_array()) return w(field, "must be an array");
    for (const auto& d : b.at(key)) {
      if (!d.is_object()) return w(field, "each entry must be an object with major and minor");
      BundleResources::DeviceValue dv;
      dv.major = json_int(d, "major", std::nullopt, 0, UINT32_MAX);
      dv.minor = json_int(d, "minor", std::nullopt, 0, UINT32_MAX);
      TRY(add(d, dv));
    }
    return {};
  };
  auto weights = [&](const json& d, BundleResources::DeviceValue dv) -> Status {
    std::string field = "linux.resources.blockIO.weightDevice";
    for (auto [key, to] :
         {std::pair{"weight", &out.blkio_weight_device}, std::pair{"leafWeight", &out.blkio_leaf_weight_device}})
      if (auto v = TRY(weight(d, key, field + "." + key))) {
        dv.value = *v;
        to->push_back(dv);
      }
    return {};
  };
  auto rate = [&](List& to) {
    return [&to](const json& d, BundleResources::DeviceValue dv) -> Status {
      dv.value = json_int(d, "rate", std::nullopt, 0, INT64_MAX);
      to.push_back(dv);
      return {};
    };
  };
  TRY(devices("weightDevice", weights));
  TRY(devices("throttleReadBpsDevice", rate(out.throttle_read_bps)));
  TRY(devices("throttleWriteBpsDevice", rate(out.throttle_write_bps)));
  TRY(devices("throttleReadIOPSDevice", rate(out.throttle_read_iops)));
  TRY(devices("throttleWriteIOPSDevice", rate(out.throttle_write_iops)));
  return {};
}

/// linux.resources: memory, pids, cpu, cpuset, block I/O and huge page limits, and v2 files as given ("unified");
/// -1 means unlimited where the spec allows it.
Result<BundleResources> resources_of(const json& r, const Where& w) {
  BundleResources out;
  if (!r.is_object()) return w("linux.resources", "must be an object");
  auto num = [](const json& o, const char* key, int64_t min, int64_t max) -> std::optional<int64_t> {
    if (!o.contains(key) || o.at(key).is_null()) return std::nullopt;
    return json_int(o, key, std::nullopt, min, max);
  };
  if (r.contains("memory") && r.at("memory").is_object()) {
    const json& m = r.at("memory");
    out.memory_limit = num(m, "limit", -1, INT64_MAX);
    out.memory_reservation = num(m, "reservation", -1, INT64_MAX);
    out.memory_swap = num(m, "swap", -1, INT64_MAX);
    out.memory_kernel_tcp = num(m, "kernelTCP", -1, INT64_MAX);
    // "kernel" is left alone, as runc leaves it: kernel memory limits are gone from cgroup v2 and deprecated in v1.
    if (m.contains("swappiness") && !m.at("swappiness").is_null()) {
      // docker once sent -1 (as a uint64, 2^64-1) for "unset": taken so, as runc does
      const json& v = m.at("swappiness");
      bool unset = (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() == -1) ||
                   (v.is_number_unsigned() && v.get<uint64_t>() == UINT64_MAX);
      if (!unset) out.memory_swappiness = num(m, "swappiness", 0, 100);
    }
    if (m.contains("disableOOMKiller") && !m.at("disableOOMKiller").is_null()) {
      if (!m.at("disableOOMKiller").is_boolean())
        return w("linux.resources.memory.disableOOMKiller", "must be true or false");
      out.disable_oom_killer = m.at("disableOOMKiller").get<bool>();
    }
  }
  if (r.contains("pids") && r.at("pids").is_object()) out.pids_limit = num(r.at("pids"), "limit", -1, INT64_MAX);
  if (r.contains("cpu") && r.at("cpu").is_object()) {
    const json& cpu = r.at("cpu");
    out.cpu_quota = num(cpu, "quota", -1, INT64_MAX);
    out.cpu_period = num(cpu, "period", 0, INT64_MAX);
    out.cpu_shares = num(cpu, "shares", 0, 262144);
    out.cpu_rt_runtime = num(cpu, "realtimeRuntime", -1, INT64_MAX);
    out.cpu_rt_period = num(cpu, "realtimePeriod", 0, INT64_MAX);
    for (auto [key, field] : {std::pair{"cpus", &out.cpuset_cpus}, std::pair{"mems", &out.cpuset_mems}}) {
      if (!cpu.contains(key) || cpu.at(key).is_null()) continue;
      *field = TRY(string_of(cpu, key, std::string("linux.resources.cpu.") + key, w));
      if ((*field)->find_first_not_of("0123456789,-") != std::string::npos)
        return w("linux.resources.cpu", "\"" + **field + "\" is not a list such as 0-2,4");
    }
  }
  if (r.contains("blockIO") && !r.at("blockIO").is_null()) TRY(block_io_of(r.at("blockIO"), out, w));
  if (r.contains("hugepageLimits") && !r.at("hugepageLimits").is_null()) {
    if (!r.at("hugepageLimits").is_array()) return w("linux.resources.hugepageLimits", "must be an array");
    for (const auto& h : r.at("hugepageLimits")) {
      if (!h.is_object()) return w("linux.resources.hugepageLimits", "each entry must be an object");
      std::string size = TRY(string_of(h, "pageSize", "linux.resources.hugepageLimits.pageSize", w));
      size_t digits = size.find_first_not_of("0123456789");
      if (digits == 0 || digits == std::string::npos ||
          (size.substr(digits) != "KB" && size.substr(digits) != "MB" && size.substr(digits) != "GB"))
        return w("linux.resources.hugepageLimits.pageSize", "\"" + size + "\" is not a page size such as 2MB or 1GB");
      out.hugepage_limits.emplace_back(size, json_int(h, "limit", std::nullopt, 0, INT64_MAX));
    }
  }
  if (r.contains("unified") && !r.at("unified").is_null()) {
    if (!r.at("unified").is_object()) return w("linux.resources.unified", "must be an object of strings");
    for (const auto& [key, value] : r.at("unified").items()) {
      // a file of the container's own cgroup directory, named controller.setting; never one that moves processes
      // or hands controllers on, which are the runtime's
      if (key.find('/') != std::string::npos || key.find('.') == std::string::npos || key[0] == '.' ||
          key == "cgroup.procs" || key == "cgroup.threads" || key == "cgroup.subtree_control" || key == "cgroup.type")
        return w("linux.resources.unified", "\"" + key + "\" is not a setting of the container's cgroup");
      if (!value.is_string()) return w("linux.resources.unified." + key, "must be a string");
      out.unified.emplace_back(key, value.get<std::string>());
    }
  }
  // Asked for, never applied: refused rather than ignored.
  if (r.contains("network") && r.at("network").is_object()) {
    const json& n = r.at("network");
    bool priorities = n.contains("priorities") && n.at("priorities").is_array() && !n.at("priorities").empty();
    bool class_id = n.contains("classID") && !n.at("classID").is_null() && n.at("classID") != 0;  // 0: no class
    if (class_id || priorities)
      return make_error(ErrorCode::unsupported, w.file +
                                                    ": linux.resources.network (net_cls, net_prio) is not "
                                                    "supported by kiln-runtime; remove it from the config");
  }
  if (r.contains("rdma") && r.at("rdma").is_object() && !r.at("rdma").empty())
    return make_error(ErrorCode::unsupported,
                      w.file + ": linux.resources.rdma is not supported by kiln-runtime; remove it from the config");
  return out;
}

/// linux.resources.devices: allow or deny rules, in order.
Result<std::vector<DeviceRule>> device_rules_of(const json& r, const Where& w) {
  std::vector<DeviceRule> out;
  if (!r.contains("devices") || r.at("devices").is_null()) return out;
  if (!r.at("devices").is_array()) return w("linux.resources.devices", "must be an array");
  for (const auto& d : r.at("devices")) {
    if (!d.is_object() || !d.contains("allow") || !d.at("allow").is_boolean())
      return w("linux.resources.devices", "each rule needs \"allow\": true or false");
    DeviceRule rule;
    rule.allow = d.at("allow").get<bool>();
    std::string type = TRY(string_of(d, "type", "linux.resources.devices.type", w, "a"));
    if (type != "a" && type != "c" && type != "b" && type != "u")
      return w("linux.resources.devices", "type \"" + type + "\" is not a, c or b");
    rule.type = type == "u" ? 'c' : type[0];
    rule.major = d.contains("major") && !d.at("major").is_null() ? json_int(d, "major", std::nullopt, -1, UINT32_MAX) : -1;
    rule.minor = d.contains("minor") && !d.at("minor").is_null() ? json_int(d, "minor", std::nullopt, -1, UINT32_MAX) : -1;
    rule.access = TRY(string_of(d, "access", "linux.resources.devices.access", w, "rwm"));
    if (rule.access.empty()) rule.access = "rwm";
    if (rule.access.find_first_not_of("rwm") != std::string::npos)
      return w("linux.resources.devices", "access \"" + rule.access + "\" is not made of r, w and m");
    out.push_back(rule);
  }
  return out;
}

Result<int> namespace_flag(const std::string& type, const Where& w) {
  if (type == "pid") return CLONE_NEWPID;
  if (type == "network") return CLONE_NEWNET;
  if (type == "mount") return CLONE_NEWNS;
  if (type == "ipc") return CLONE_NEWIPC;
  if (type == "uts") return CLONE_NEWUTS;
  if (type == "cgroup") return CLONE_NEWCGROUP;
  if (type == "user") return CLONE_NEWUSER;
  if (type == "time") return CLONE_NEWTIME;
  return w("linux.namespaces", "unknown namespace type \"" + type + "\"");
}

Result<int> rlimit_of(const std::string& type, const Where& w) {
  static const std::map<std::string, int> names = {
      {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},     {"RLIMIT_CPU", RLIMIT_CPU},
      {"RLIMIT_DATA", RLIMIT_DATA},       {"RLIMIT_FSIZE", RLIMIT_FSIZE},   {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
      {"RLIMIT_NOFILE", RLIMIT_NOFILE},   {"RLIMIT_NPROC", RLIMIT_NPROC},   {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME}, {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_STACK", RLIMIT_STACK}};
  auto it = names.find(type);
  if (it == names.end()) return w("process.rlimits", "unknown rlimit type \"" + type + "\"");
  return it->second;
}

Status parse_process(const json& p, BundleConfig& c, const Where& w) {
  if (!p.is_object()) return w("process", "must be an object");
  c.terminal = p.value("terminal", false);
  c.args = TRY(strings_of(p, "args", "process.args", w));
  if (c.args.empty()) return w("process.args", "must name the program to run");
  c.env = TRY(strings_of(p, "env", "process.env", w));
  c.cwd = TRY(string_of(p, "cwd", "process.cwd", w, "/"));
  if (c.cwd.empty() || c.cwd[0] != '/') return w("process.cwd", "must be an absolute path, not \"" + c.cwd + "\"");
  if (p.contains("user")) {
    const json& u = p.at("user");
    c.uid = static_cast<uid_t>(json_uint(u, "uid", 0, kMaxId));
    c.gid = static_cast<gid_t>(json_uint(u, "gid", 0, kMaxId));
    if (u.contains("umask")) c.umask = static_cast<mode_t>(json_uint(u, "umask", 022, 0777));
    if (u.contains("additionalGids"))
      for (const auto& g : u.at("additionalGids")) {
        if (!g.is_number_unsigned() || g.get<uint64_t>() > kMaxId)
          return w("process.user.additionalGids", "must hold group ids");
        c.additional_gids.push_back(static_cast<gid_t>(g.get<uint64_t>()));
      }
  }
  if (p.contains("capabilities") && p.at("capabilities").is_object())
    for (auto [key, set] : std::initializer_list<std::pair<const char*, CapSet*>>{
             {"bounding", &c.caps.bounding}, {"effective", &c.caps.effective}, {"permitted", &c.caps.permitted},
             {"inheritable", &c.caps.inheritable}, {"ambient", &c.caps.ambient}}) {
      std::string field = std::string("process.capabilities.") + key;
      for (const auto& name : TRY(strings_of(p.at("capabilities"), key, field, w))) {
        int n = cap_from_name(name);
        if (n < 0) return w(field, "unknown capability \"" + name + "\"");
        if (n <= last_cap()) *set |= CapSet{1} << n;  // one this kernel lacks cannot be held: left out, as runc does
      }
    }
  if (p.contains("rlimits") && p.at("rlimits").is_array())
    for (const auto& r : p.at("rlimits")) {
      Rlimit rl;
      rl.resource = TRY(rlimit_of(r.value("type", ""), w));
      rl.soft = json_uint(r, "soft", 0);
      rl.hard = json_uint(r, "hard", 0);
      c.rlimits.push_back(rl);
    }
  c.no_new_privileges = p.value("noNewPrivileges", false);
  if (p.contains("oomScoreAdj")) c.oom_score_adj = static_cast<int>(json_int(p, "oomScoreAdj", 0, -1000, 1000));
  if (!p.value("apparmorProfile", std::string()).empty())
    return w("process.apparmorProfile", "AppArmor is not available to kiln-runtime on this host");
  if (!p.value("selinuxLabel", std::string()).empty())
    return w("process.selinuxLabel", "SELinux is not available to kiln-runtime on this host");
  return {};
}

Status parse_linux(const json& l, BundleConfig& c, const Where& w) {
  if (l.contains("namespaces"))
    for (const auto& n : l.at("namespaces")) {
      BundleNamespace ns;
      ns.flag = TRY(namespace_flag(n.value("type", ""), w));
      ns.path = n.value("path", "");
      for (const auto& seen : c.namespaces)
        if (seen.flag == ns.flag) return w("linux.namespaces", "\"" + n.value("type", "") + "\" is given twice");
      if (!ns.path.empty() && !path_exists(ns.path))
        return w("linux.namespaces", "namespace path " + ns.path + " does not exist");
      c.namespaces.push_back(ns);
    }
  if (l.contains("devices"))
    for (const auto& d : l.at("devices")) {
      BundleDevice dev;
      dev.path = d.value("path", "");
      std::string type = d.value("type", "c");
      if (dev.path.empty() || dev.path[0] != '/' || dev.path.rfind("/dev/", 0) != 0)
        return w("linux.devices", "path \"" + dev.path + "\" must be under /dev");
      if (type != "c" && type != "b" && type != "u" && type != "p")
        return w("linux.devices", "type of " + dev.path + " must be c, b, u or p");
      dev.type = type[0];
      dev.major = static_cast<uint32_t>(json_uint(d, "major", 0, UINT32_MAX));
      dev.minor = static_cast<uint32_t>(json_uint(d, "minor", 0, UINT32_MAX));
      // The permission bits; engines may send the whole st_mode (podman's --device does: 020666 for a char node).
      dev.mode = static_cast<uint32_t>(json_uint(d, "fileMode", 0666, UINT32_MAX)) & 07777;
      dev.uid = static_cast<uint32_t>(json_uint(d, "uid", 0, kMaxId));
      dev.gid = static_cast<uint32_t>(json_uint(d, "gid", 0, kMaxId));
      c.devices.push_back(dev);
    }
  c.masked_paths = TRY(strings_of(l, "maskedPaths", "linux.maskedPaths", w));
  c.readonly_paths = TRY(strings_of(l, "readonlyPaths", "linux.readonlyPaths", w));
  if (l.contains("sysctl") && l.at("sysctl").is_object())
    for (const auto& [k, v] : l.at("sysctl").items()) {
      if (!v.is_string()) return w("linux.sysctl", k + " must be a string");
      if (k.find("..") != std::string::npos || k.find('/') != std::string::npos)
        return w("linux.sysctl", "\"" + k + "\" is not a sysctl name");
      c.sysctl[k] = v.get<std::string>();
    }
  if (l.contains("seccomp") && !l.at("seccomp").is_null()) c.seccomp_json = json_text(l.at("seccomp"));
  c.rootfs_propagation = TRY(string_of(l, "rootfsPropagation", "linux.rootfsPropagation", w));
  c.cgroups_path = TRY(string_of(l, "cgroupsPath", "linux.cgroupsPath", w));
  if (c.cgroups_path.find("..") != std::string::npos) return w("linux.cgroupsPath", "must not contain ..");
  if (l.contains("timeOffsets") && !l.at("timeOffsets").is_null()) {
    const json& t = l.at("timeOffsets");
    if (!t.is_object()) return w("linux.timeOffsets", "must be an object");
    for (const auto& [clock, off] : t.items()) {
      if (clock != "monotonic" && clock != "boottime")
        return w("linux.timeOffsets", "unknown clock \"" + clock + "\" (monotonic or boottime)");
      if (!off.is_object()) return w("linux.timeOffsets." + clock, "must be an object with secs and nanosecs");
      c.time_offsets.push_back({clock, json_int(off, "secs", 0, INT64_MIN / 2, INT64_MAX / 2),
                                json_int(off, "nanosecs", 0, 0, 999999999)});
    }
  }
  if (l.contains("personality") && !l.at("personality").is_null()) {
    std::string domain = TRY(string_of(l.at("personality"), "domain", "linux.personality.domain", w));
    if (domain != "LINUX" && domain != "LINUX32")
      return w("linux.personality.domain", "\"" + domain + "\" is not LINUX or LINUX32");
    c.personality = domain == "LINUX32" ? 0x0008 /* PER_LINUX32 */ : 0;
    if (!TRY(strings_of(l.at("personality"), "flags", "linux.personality.flags", w)).empty())
      return w("linux.personality.flags", "personality flags are not supported by kiln-runtime");
  }
  if (l.contains("resources") && !l.at("resources").is_null()) {
    c.resources = TRY(resources_of(l.at("resources"), w));
    c.device_rules = TRY(device_rules_of(l.at("resources"), w));
  }
  for (auto [key, out] : std::initializer_list<std::pair<const char*, std::vector<IdMapping>*>>{
           {"uidMappings", &c.uid_mappings}, {"gidMappings", &c.gid_mappings}}) {
    if (!l.contains(key) || l.at(key).is_null()) continue;
    if (!l.at(key).is_array()) return w(std::string("linux.") + key, "must be an array");
    for (const auto& m : l.at(key)) {
      IdMapping im;
      im.container_id = static_cast<uint32_t>(json_uint(m, "containerID", std::nullopt, kMaxId));
      im.host_id = static_cast<uint32_t>(json_uint(m, "hostID", std::nullopt, kMaxId));
      im.size = static_cast<uint32_t>(json_uint(m, "size", std::nullopt, UINT32_MAX));
      if (im.size == 0) return w(std::string("linux.") + key, "a mapping of size 0");
      out->push_back(im);
    }
  }
  bool new_user = false;
  for (const auto& n : c.namespaces)
    if (n.flag == CLONE_NEWUSER && n.path.empty()) new_user = true;
  if (!c.uid_mappings.empty() || !c.gid_mappings.empty()) {
    if (!new_user) return w("linux.uidMappings", "given without a new user namespace");
  } else if (new_user) {
    return w("linux.uidMappings", "a new user namespace needs uidMappings and gidMappings");
  }
  return {};
}

}  // namespace

std::vector<DeviceRule> BundleConfig::effective_device_rules() const {
  std::vector<DeviceRule> out = device_rules;
  for (const auto& d : devices)
    if (d.type != 'p') out.push_back({true, d.type == 'b' ? 'b' : 'c', d.major, d.minor, "rwm"});
  for (const auto& r : default_device_rules()) out.push_back(r);
  return out;
}

bool BundleConfig::has_namespace(int flag) const {
  for (const auto& n : namespaces)
    if (n.flag == flag) return true;
  return false;
}

Result<BundleConfig> parse_bundle_config(const std::string& text, const std::string& bundle) {
  Where w{bundle + "/config.json"};
  BundleConfig c;
  c.bundle = bundle;
  json j;
  try {
    j = parse_json(text);
  } catch (const json::exception& e) {
    return make_error(ErrorCode::invalid_argument, w.file + ": not valid JSON: " + e.what());
  }
  try {
    if (!j.is_object()) return w("(top)", "must be a JSON object");
    c.oci_version = TRY(string_of(j, "ociVersion", "ociVersion", w));
    if (c.oci_version.rfind("1.", 0) != 0) return w("ociVersion", "\"" + c.oci_version + "\" is not a 1.x runtime spec");
    if (!j.contains("process")) return w("process", "is missing (kiln-runtime create needs a process)");
    TRY(parse_process(j.at("process"), c, w));
    if (!j.contains("root") || !j.at("root").is_object()) return w("root", "is missing");
    std::string root = TRY(string_of(j.at("root"), "path", "root.path", w));
    if (root.empty()) return w("root.path", "is empty");
    if (root[0] != '/') root = bundle + "/" + root;
    char real[PATH_MAX];
    if (!::realpath(root.c_str(), real)) return w("root.path", root + " does not exist");
    c.root = real;
    c.root_readonly = j.at("root").value("readonly", false);
    c.hostname = TRY(string_of(j, "hostname", "hostname", w));
    c.domainname = TRY(string_of(j, "domainname", "domainname", w));
    if (j.contains("mounts"))
      for (const auto& m : j.at("mounts")) {
        BundleMount bm;
        bm.destination = TRY(string_of(m, "destination", "mounts.destination", w));
        if (bm.destination.empty() || bm.destination[0] != '/')
          return w("mounts", "destination \"" + bm.destination + "\" must be an absolute path");
        bm.type = TRY(string_of(m, "type", "mounts.type", w));
        bm.source = TRY(string_of(m, "source", "mounts.source", w));
        bm.options = TRY(strings_of(m, "options", "mounts.options", w));
        c.mounts.push_back(bm);
      }
    if (j.contains("linux")) TRY(parse_linux(j.at("linux"), c, w));
    if (!c.has_namespace(CLONE_NEWNS)) {  // the host's mount namespace: only what changes nothing outside the root
      auto needs_mnt = [&](const char* field) {
        return w(field, "needs a mount namespace of the container's own (linux.namespaces type \"mount\")");
      };
      if (!c.masked_paths.empty()) return needs_mnt("linux.maskedPaths");
      if (!c.readonly_paths.empty()) return needs_mnt("linux.readonlyPaths");
      if (c.root_readonly) return needs_mnt("root.readonly");
      if (!c.rootfs_propagation.empty()) return needs_mnt("linux.rootfsPropagation");
    }
    bool new_time = false;
    for (const auto& n : c.namespaces) new_time = new_time || (n.flag == CLONE_NEWTIME && n.path.empty());
    if (!c.time_offsets.empty() && !new_time)
      return w("linux.timeOffsets", "needs a new time namespace (linux.namespaces type \"time\" without a path)");
    if (!c.hostname.empty() && !c.has_namespace(CLONE_NEWUTS))
      return w("hostname", "needs a new uts namespace");
    if (j.contains("hooks") && !j.at("hooks").is_null()) {
      c.hooks_json = json_text(j.at("hooks"));
      c.hooks = TRY(parse_bundle_hooks(c.hooks_json, w.file));
    }
    if (j.contains("annotations") && j.at("annotations").is_object())
      for (const auto& [k, v] : j.at("annotations").items())
        if (v.is_string()) c.annotations[k] = v.get<std::string>();
  } catch (const json::exception& e) {
    return make_error(ErrorCode::invalid_argument, w.file + ": malformed: " + e.what());
  }
  return c;
}

Result<BundleConfig> with_process(BundleConfig c, const std::string& text, const std::string& file) {
  Where w{file};
  try {
    json p = parse_json(text);
    c.args.clear();
    c.env.clear();
    c.caps = {};
    c.rlimits.clear();
    c.additional_gids.clear();
    c.uid = 0;
    c.gid = 0;
    TRY(parse_process(p, c, w));
  } catch (const json::exception& e) {
    return make_error(ErrorCode::invalid_argument, file + ": " + e.what());
  }
  return c;
}

Result<BundleResources> parse_bundle_resources(const std::string& text, const std::string& file) {
  Where w{file};
  try {
    return resources_of(parse_json(text), w);
  } catch (const json::exception& e) {
    return make_error(ErrorCode::invalid_argument, file + ": " + e.what());
  }
}

Result<BundleConfig> load_bundle_config(const std::string& bundle) {
  char real[PATH_MAX];
  if (!::realpath(bundle.c_str(), real))
    return make_error(ErrorCode::not_found, "bundle " + bundle + " does not exist");
  std::string dir = real;
  auto text = read_file(dir + "/config.json", 4u << 20);
  if (!text) return std::move(text).error().context("bundle " + dir + ": config.json");
  return parse_bundle_config(*text, dir);
}

std::string default_bundle_config() {
  json caps = json::array({"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
  json j = {
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", true},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", {"sh"}},
        {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "kiln"},
      {"mounts",
       {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
        {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"},
         {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
        {{"destination", "/dev/pts"}, {"type", "devpts"}, {"source", "devpts"},
         {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}}},
        {{"destination", "/dev/shm"}, {"type", "tmpfs"}, {"source", "shm"},
         {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
        {{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mqueue"}, {"options", {"nosuid", "noexec", "nodev"}}},
        {{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"}, {"options", {"nosuid", "noexec", "nodev", "ro"}}}}},
      {"linux",
       {{"namespaces", {{{"type", "pid"}}, {{"type", "network"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}, {{"type", "cgroup"}}}},
        {"maskedPaths",
         {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
          "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}},
        {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}}};
  return j.dump(2) + "\n";
}

}  // namespace kiln::runtime
