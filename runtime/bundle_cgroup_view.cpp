// A container's own cgroups at its cgroup mount, when it has no cgroup namespace.
#include "runtime/bundle_cgroup_view.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <sstream>
#include <vector>

#include "common/fd.h"
#include "runtime/cgroups.h"
#include "runtime/mountinfo.h"

namespace kiln::runtime {

namespace {

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

/// One v1 hierarchy: its name below /sys/fs/cgroup ("memory", "cpu,cpuacct", "systemd") and the host
/// directory of the calling process in it ("" at the hierarchy's root).
struct OwnDir {
  std::string name, dir;
};

/// The v1 hierarchies mounted at /sys/fs/cgroup/<name>, each with the directory this process is in there:
/// /proc/self/mountinfo says which controllers each mount holds, where (/proc/self/cgroup) the process is.
std::vector<OwnDir> own_v1_dirs(const std::map<std::string, std::string>& where) {
  std::vector<OwnDir> out;
  std::string prefix = std::string(kCgroupRoot) + "/";
  for (const auto& m : own_mountinfo()) {
    const std::string& point = m.point;
    if (m.type != "cgroup" || point.rfind(prefix, 0) != 0 || point.find('/', prefix.size()) != std::string::npos)
      continue;
    // the controllers, in /proc/self/cgroup's spelling: the super options but rw, ro, xattr and the like
    std::string controllers;
    std::istringstream opts(m.super_options);
    for (std::string o; std::getline(opts, o, ',');)
      if (o != "rw" && o != "ro" && o != "xattr" && o != "noprefix" && o != "clone_children" &&
          o.rfind("release_agent=", 0) != 0 && o.rfind("cpuset_v2_mode", 0) != 0)
        controllers += (controllers.empty() ? "" : ",") + o;
    auto it = where.find(controllers);
    if (it == where.end()) continue;
    // at the hierarchy's root (no cgroup of its own there): an empty directory, not the host's whole tree
    std::string dir = it->second == "/" ? "" : point + it->second;
    if (dir.empty() || path_exists(dir)) out.push_back({point.substr(prefix.size()), dir});
  }
  return out;
}

/// Binds dir at parent/name (made; left empty for no dir), with the mount's flags and nosuid, nodev, noexec.
Status bind_below(int parent, const std::string& name, const std::string& dir, unsigned long flags) {
  if (::mkdirat(parent, name.c_str(), 0755) < 0 && errno != EEXIST) return sys_error("mkdir " + name);
  if (dir.empty()) return {};
  std::string at = proc_fd_path(parent) + "/" + name;
  if (::mount(dir.c_str(), at.c_str(), nullptr, MS_BIND, nullptr) < 0) return sys_error("bind " + dir);
  if (::mount(nullptr, at.c_str(), nullptr, MS_BIND | MS_REMOUNT | flags, nullptr) < 0)
    return sys_error("remount " + dir);
  return {};
}

}  // namespace

Status mount_own_cgroups(const std::string& at, const std::function<Result<UniqueFd>()>& reopen, unsigned long flags) {
  flags = (flags & ~MS_REMOUNT) | MS_NOSUID | MS_NODEV | MS_NOEXEC;  // a user namespace may not drop these
  std::map<std::string, std::string> where;
  for (auto& [controllers, path] : cgroups_of("self")) where.emplace(std::move(controllers), std::move(path));
  std::string v2 = cgroup_v2_mount(), own_v2;  // "" at the v2 root: nothing of the host's there either
  if (!v2.empty() && where.count("") && where[""] != "/" && path_exists(v2 + where[""])) own_v2 = v2 + where[""];
  std::vector<OwnDir> v1 = own_v1_dirs(where);
  if (v1.empty() && !own_v2.empty()) {  // a pure v2 host: the v2 cgroup itself
    if (::mount(own_v2.c_str(), at.c_str(), nullptr, MS_BIND, nullptr) < 0) return sys_error("bind " + own_v2);
    if (::mount(nullptr, at.c_str(), nullptr, MS_BIND | MS_REMOUNT | flags, nullptr) < 0)
      return sys_error("remount " + own_v2);
    return {};
  }
  if (::mount("tmpfs", at.c_str(), "tmpfs", flags & ~MS_RDONLY, "mode=755") < 0) return sys_error("tmpfs");
  UniqueFd top = TRY(reopen());  // the new tmpfs, not the directory it covers
  for (const auto& d : v1) TRY(bind_below(top.get(), d.name, d.dir, flags));
  if (v2 == std::string(kCgroupRoot) + "/unified") TRY(bind_below(top.get(), "unified", own_v2, flags));
  // the host's links between co-mounted controllers ("cpu" -> "cpu,cpuacct"), where they lead to one of these
  if (auto names = list_dir(kCgroupRoot))
    for (const auto& n : *names) {
      char link[256];
      ssize_t len = ::readlink((std::string(kCgroupRoot) + "/" + n).c_str(), link, sizeof link - 1);
      if (len <= 0) continue;
      std::string to(link, static_cast<size_t>(len));
      for (const auto& d : v1)
        if (d.name == to) (void)::symlinkat(to.c_str(), top.get(), n.c_str());
    }
  if ((flags & MS_RDONLY) &&
      ::mount(nullptr, proc_fd_path(top.get()).c_str(), nullptr, MS_REMOUNT | MS_BIND | flags, nullptr) < 0)
    return sys_error("remount the cgroup tmpfs read-only");
  return {};
}

}  // namespace kiln::runtime
