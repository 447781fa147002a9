// A bundle's root filesystem, in the child.
#include "runtime/bundle_rootfs.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "common/fd.h"
#include "common/identity.h"
#include "runtime/bundle_cgroup_view.h"

namespace kiln::runtime {

MountOptions parse_mount_options(const std::vector<std::string>& options) {
  static const std::map<std::string, std::pair<unsigned long, bool>> flags = {
      {"ro", {MS_RDONLY, true}},
      {"rw", {MS_RDONLY, false}},
      {"nosuid", {MS_NOSUID, true}},
      {"suid", {MS_NOSUID, false}},
      {"nodev", {MS_NODEV, true}},
      {"dev", {MS_NODEV, false}},
      {"noexec", {MS_NOEXEC, true}},
      {"exec", {MS_NOEXEC, false}},
      {"sync", {MS_SYNCHRONOUS, true}},
      {"async", {MS_SYNCHRONOUS, false}},
      {"dirsync", {MS_DIRSYNC, true}},
      {"remount", {MS_REMOUNT, true}},
      {"mand", {MS_MANDLOCK, true}},
      {"nomand", {MS_MANDLOCK, false}},
      {"atime", {MS_NOATIME, false}},
      {"noatime", {MS_NOATIME, true}},
      {"diratime", {MS_NODIRATIME, false}},
      {"nodiratime", {MS_NODIRATIME, true}},
      {"relatime", {MS_RELATIME, true}},
      {"norelatime", {MS_RELATIME, false}},
      {"strictatime", {MS_STRICTATIME, true}},
      {"nostrictatime", {MS_STRICTATIME, false}}};
  static const std::map<std::string, unsigned long> propagation = {
      {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
      {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
      {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC}};
  MountOptions m;
  for (const auto& o : options) {
    if (auto f = flags.find(o); f != flags.end()) {
      if (f->second.second) {
        m.flags |= f->second.first;
        m.clear &= ~f->second.first;
      } else {
        m.flags &= ~f->second.first;
        m.clear |= f->second.first;
      }
    } else if (auto p = propagation.find(o); p != propagation.end()) {
      m.propagation = p->second;
    } else if (o == "tmpcopyup") {
      m.tmpcopyup = true;
    } else if (o == "bind" || o == "rbind") {
      m.bind = true;
      m.recursive = m.recursive || o == "rbind";
    } else if (!o.empty()) {
      m.data += (m.data.empty() ? "" : ",") + o;
    }
  }
  return m;
}

namespace {

int openat2_in(int rootfd, const std::string& rel, int flags) {
  return openat2_raw(rootfd, rel.empty() ? "." : rel.c_str(), static_cast<uint64_t>(flags) | O_CLOEXEC,
                     RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/// The mount target dest inside the root, made when missing (a directory, or an empty file when file), and
/// opened with every symlink resolved inside the root.
Result<UniqueFd> open_target(int rootfd, const std::string& dest, bool file) {
  std::string rel;
  size_t pos = 0;
  std::vector<std::string> comps;
  while (pos < dest.size()) {
    size_t next = dest.find('/', pos);
    std::string c = dest.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    if (!c.empty() && c != ".") comps.push_back(c);
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  for (size_t i = 0; i < comps.size(); ++i) {
    if (comps[i] == "..") return make_error(ErrorCode::unsafe, "mount destination " + dest + " holds ..");
    std::string parent = rel;
    rel += (rel.empty() ? "" : "/") + comps[i];
    int fd = openat2_in(rootfd, rel, O_PATH);
    if (fd >= 0) {
      ::close(fd);
      continue;
    }
    if (errno != ENOENT) return sys_error("mount destination " + dest);
    UniqueFd pfd(openat2_in(rootfd, parent, O_PATH | O_DIRECTORY));
    if (pfd.get() < 0) return sys_error("mount destination " + dest);
    bool last = i + 1 == comps.size();
    if (last && file) {
      int f = ::openat(pfd.get(), comps[i].c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (f < 0 && errno != EEXIST) return sys_error("create mount destination " + dest);
      if (f >= 0) ::close(f);
    } else if (::mkdirat(pfd.get(), comps[i].c_str(), 0755) < 0 && errno != EEXIST) {
      return sys_error("create mount destination " + dest);
    }
  }
  int fd = openat2_in(rootfd, rel, O_PATH);
  if (fd < 0) return sys_error("mount destination " + dest);
  return UniqueFd(fd);
}

/// Copy the tree under from (a directory fd) into to: files, directories, symlinks, with their modes and owners.
Status copy_tree(int from, int to, const std::string& where) {
  auto names = list_dir(proc_fd_path(from));
  if (!names) return std::move(names).error().context(where);
  for (const auto& n : *names) {
    struct stat st;
    if (::fstatat(from, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return sys_error(where + "/" + n);
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(to, n.c_str(), st.st_mode & 07777) < 0 && errno != EEXIST) return sys_error(where + "/" + n);
      UniqueFd a = TRY(openat_fd(from, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd b = TRY(openat_fd(to, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      TRY(copy_tree(a.get(), b.get(), where + "/" + n));
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t len = ::readlinkat(from, n.c_str(), target, sizeof target - 1);
      if (len < 0) return sys_error(where + "/" + n);
      target[len] = '\0';
      if (::symlinkat(target, to, n.c_str()) < 0) return sys_error(where + "/" + n);
    } else if (S_ISREG(st.st_mode)) {
      UniqueFd a = TRY(openat_fd(from, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd b = TRY(openat_fd(to, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777));
      auto data = TRY(read_fd(a.get(), 256u << 20));
      TRY(write_all(b.get(), data));
    } else {
      continue;  // devices, fifos, sockets stay behind
    }
    (void)!::fchownat(to, n.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
    if (!S_ISLNK(st.st_mode)) ::fchmodat(to, n.c_str(), st.st_mode & 07777, 0);
  }
  return {};
}

Status mount_one(int rootfd, const BundleConfig& c, const BundleMount& m) {
  MountOptions o = parse_mount_options(m.options);
  bool bind = o.bind || m.type == "bind";
  std::string source = m.source;
  if (bind && !source.empty() && source[0] != '/') source = c.bundle + "/" + source;
  struct stat sst;
  bool file = bind && ::stat(source.c_str(), &sst) == 0 && !S_ISDIR(sst.st_mode);
  if (bind && ::stat(source.c_str(), &sst) < 0) return sys_error("mount " + m.destination + ": source " + source);
  UniqueFd target = TRY(open_target(rootfd, m.destination, file));
  std::string at = proc_fd_path(target.get());
  auto fail = [&](const std::string& what) { return sys_error("mount " + m.type + " on " + m.destination + what); };
  if (bind) {
    if (::mount(source.c_str(), at.c_str(), nullptr, MS_BIND | (o.recursive ? MS_REC : 0), nullptr) < 0)
      return fail("");
    unsigned long extra = o.flags & ~(MS_REMOUNT);
    if (extra) {                                               // a bind takes its flags only when remounted
      target = TRY(open_target(rootfd, m.destination, file));  // the new mount, not the one under it
      at = proc_fd_path(target.get());
      if (::mount(nullptr, at.c_str(), nullptr, MS_BIND | MS_REMOUNT | extra, nullptr) < 0) return fail(" (flags)");
    }
  } else if ((m.type == "cgroup" || m.type == "cgroup2") && !c.has_namespace(CLONE_NEWCGROUP)) {
    // Without a cgroup namespace a cgroup2 mount would show the host's whole tree: the container's own cgroups
    // are shown there instead, as runc lays them out (bundle_cgroup_view.h).
    TRY_CTX(mount_own_cgroups(at, [&] { return open_target(rootfd, m.destination, false); }, o.flags),
            "mount cgroup on " + m.destination);
  } else if (m.type == "cgroup" || m.type == "cgroup2") {
    // The container's cgroup namespace view (its cgroup is the root there); where the kernel refuses that mount,
    // the host's hierarchy, read-only.
    if (::mount("cgroup2", at.c_str(), "cgroup2", o.flags, nullptr) < 0) {
      if (::mount("/sys/fs/cgroup", at.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) return fail("");
      target = TRY(open_target(rootfd, m.destination, false));
      at = proc_fd_path(target.get());
      (void)::mount(nullptr, at.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    nullptr);
    }
  } else if (m.type == "sysfs" && !c.has_namespace(CLONE_NEWNET)) {
    // sysfs belongs to a network namespace: in the host's, bind the host's, read-only.
    if (::mount("/sys", at.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) return fail("");
    target = TRY(open_target(rootfd, m.destination, false));
    at = proc_fd_path(target.get());
    (void)::mount(nullptr, at.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  nullptr);
  } else {
    const char* data = o.data.empty() ? nullptr : o.data.c_str();
    UniqueFd under;  // tmpcopyup: the directory the tmpfs covers, still reachable through this fd
    if (o.tmpcopyup && m.type == "tmpfs") under = TRY(open_fd(at, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    unsigned long flags = o.flags & ~MS_REMOUNT;
    if (under.get() >= 0) flags &= ~MS_RDONLY;  // filled first, made read-only after
    if (::mount(m.source.c_str(), at.c_str(), m.type.c_str(), flags, data) < 0) return fail("");
    if (under.get() >= 0) {
      UniqueFd top = TRY(open_target(rootfd, m.destination, false));
      UniqueFd dir = TRY(open_fd(proc_fd_path(top.get()), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      TRY_CTX(copy_tree(under.get(), dir.get(), m.destination), "tmpcopyup");
    }
    if (under.get() >= 0 && (o.flags & MS_RDONLY)) {  // read-only once filled
      UniqueFd top = TRY(open_target(rootfd, m.destination, false));
      if (::mount(nullptr, proc_fd_path(top.get()).c_str(), nullptr, MS_REMOUNT | (o.flags & ~MS_REMOUNT), data) < 0)
        return fail(" (read-only)");
    }
  }
  if (o.propagation) {
    target = TRY(open_target(rootfd, m.destination, file));
    if (::mount(nullptr, proc_fd_path(target.get()).c_str(), nullptr, o.propagation, nullptr) < 0)
      return fail(" (propagation)");
  }
  return {};
}

/// /dev's nodes when the config gives /dev a filesystem of its own: the spec's defaults, then linux.devices.
Status make_devices(int rootfd, const BundleConfig& c) {
  bool own_dev = false;
  for (const auto& m : c.mounts)
    if (m.destination == "/dev" && m.type != "bind") own_dev = true;
  std::vector<BundleDevice> devs;
  if (own_dev)
    for (auto [name, major, minor] : std::initializer_list<std::tuple<const char*, int, int>>{{"/dev/null", 1, 3},
                                                                                              {"/dev/zero", 1, 5},
                                                                                              {"/dev/full", 1, 7},
                                                                                              {"/dev/random", 1, 8},
                                                                                              {"/dev/urandom", 1, 9},
                                                                                              {"/dev/tty", 5, 0}})
      devs.push_back(BundleDevice{name, 'c', static_cast<uint32_t>(major), static_cast<uint32_t>(minor), 0666, 0, 0});
  devs.insert(devs.end(), c.devices.begin(), c.devices.end());
  bool in_user_namespace = c.has_namespace(CLONE_NEWUSER) || !in_initial_user_namespace();
  for (const auto& d : devs) {
    auto slash = d.path.rfind('/');
    (void)TRY(open_target(rootfd, d.path.substr(0, slash), false));  // the directory exists
    std::string name = d.path.substr(slash + 1);
    UniqueFd dirfd(openat2_in(rootfd, d.path.substr(1, slash == 0 ? 0 : slash - 1), O_DIRECTORY | O_RDONLY));
    if (dirfd.get() < 0) return sys_error("device " + d.path);
    mode_t type = d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR;
    // No mknod in a user namespace (the config's own, or the one the runtime runs in, as under podman
    // rootless): the host's node, bound on a file.
    if (in_user_namespace) {
      int f = ::openat(dirfd.get(), name.c_str(), O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (f < 0) return sys_error("create device " + d.path);
      ::close(f);
      UniqueFd at = TRY(open_target(rootfd, d.path, true));
      if (::mount(d.path.c_str(), proc_fd_path(at.get()).c_str(), nullptr, MS_BIND, nullptr) < 0)
        return sys_error("bind device " + d.path);
      continue;
    }
    ::unlinkat(dirfd.get(), name.c_str(), 0);
    if (::mknodat(dirfd.get(), name.c_str(), type | (d.mode & 07777), makedev(d.major, d.minor)) < 0)
      return sys_error("create device " + d.path);
    (void)!::fchownat(dirfd.get(), name.c_str(), d.uid, d.gid, AT_SYMLINK_NOFOLLOW);
    ::fchmodat(dirfd.get(), name.c_str(), d.mode & 07777, 0);
  }
  if (own_dev) {
    UniqueFd dev(openat2_in(rootfd, "dev", O_DIRECTORY | O_RDONLY));
    if (dev.get() >= 0)
      for (auto [name, target] :
           std::initializer_list<std::pair<const char*, const char*>>{{"fd", "/proc/self/fd"},
                                                                      {"stdin", "/proc/self/fd/0"},
                                                                      {"stdout", "/proc/self/fd/1"},
                                                                      {"stderr", "/proc/self/fd/2"},
                                                                      {"ptmx", "pts/ptmx"},
                                                                      {"core", "/proc/kcore"}})
        if ((std::strcmp(name, "core") != 0 || ::access("/proc/kcore", F_OK) == 0) &&  // as runc: not dangling
            ::symlinkat(target, dev.get(), name) < 0 && errno != EEXIST)
          return sys_error(std::string("/dev/") + name);
  }
  return {};
}

Status pivot_into(const std::string& root) {
  if (::chdir(root.c_str()) < 0) return sys_error("chdir " + root);
  if (::syscall(SYS_pivot_root, ".", ".") < 0) return sys_error("pivot_root " + root);
  if (::umount2(".", MNT_DETACH) < 0) return sys_error("detach the old root");
  if (::chdir("/") < 0) return sys_error("chdir /");
  return {};
}

/// Bind p onto itself and remount it with flags added to what it has.
Status remount_bind(const std::string& p, unsigned long flags, bool recursive) {
  if (::mount(p.c_str(), p.c_str(), nullptr, MS_BIND | (recursive ? MS_REC : 0), nullptr) < 0) return sys_error(p);
  struct statvfs sv;
  unsigned long have = 0;
  if (::statvfs(p.c_str(), &sv) == 0)
    have = sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME | ST_NODIRATIME | ST_RELATIME);
  if (::mount(nullptr, p.c_str(), nullptr, MS_BIND | MS_REMOUNT | flags | have, nullptr) < 0) return sys_error(p);
  return {};
}

Status after_pivot(const BundleConfig& c) {
  for (const auto& [k, v] : c.sysctl) {
    std::string path = "/proc/sys/" + k;
    for (size_t i = 10; i < path.size(); ++i)
      if (path[i] == '.') path[i] = '/';
    UniqueFd fd = TRY_CTX(open_fd(path, O_WRONLY | O_CLOEXEC), "sysctl " + k);
    TRY_CTX(write_all(fd.get(), v), "sysctl " + k);
  }
  for (const auto& p : c.masked_paths) {
    struct stat st;
    if (::stat(p.c_str(), &st) < 0) continue;  // nothing there to hide
    int r = S_ISDIR(st.st_mode) ? ::mount("tmpfs", p.c_str(), "tmpfs", MS_RDONLY, "size=0")
                                : ::mount("/dev/null", p.c_str(), nullptr, MS_BIND, nullptr);
    if (r < 0 && errno == ENOENT && !S_ISDIR(st.st_mode))  // what is missing is the node it is masked with
      return make_error(ErrorCode::invalid_argument, "linux.maskedPaths: " + p +
                                                         " is masked with the container's /dev/null, which it "
                                                         "lacks: mount /dev (tmpfs) or give the root a /dev/null");
    if (r < 0) return sys_error("mask " + p);
  }
  for (const auto& p : c.readonly_paths) {
    if (!path_exists(p)) continue;
    TRY_CTX(remount_bind(p, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, true), "make read-only");
  }
  if (!c.hostname.empty() && ::sethostname(c.hostname.data(), c.hostname.size()) < 0) return sys_error("sethostname");
  if (!c.domainname.empty() && ::setdomainname(c.domainname.data(), c.domainname.size()) < 0)
    return sys_error("setdomainname");
  if (c.root_readonly) {
    struct statvfs sv;
    unsigned long have = 0;
    if (::statvfs("/", &sv) == 0) have = sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC);
    if (::mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | have, nullptr) < 0)
      return sys_error("make the root read-only");
  }
  return {};
}

}  // namespace

Status setup_bundle_rootfs(const BundleConfig& c, const std::function<Status()>& before_pivot) {
  unsigned long prop = MS_SLAVE | MS_REC;
  if (!c.rootfs_propagation.empty()) {
    auto o = parse_mount_options({c.rootfs_propagation});
    if (!o.propagation)
      return make_error(ErrorCode::invalid_argument,
                        "linux.rootfsPropagation \"" + c.rootfs_propagation + "\" is unknown");
    prop = o.propagation | MS_REC;
  }
  // In a mount namespace of its own nothing done here reaches the host's mounts, and the root is a mount of its
  // own (pivot_root needs it). In the host's (none in the config), the mounts land under the root, where create
  // records them for delete, the host's propagation stays as it is, and the process is chrooted, as runc does.
  bool own_mounts = c.has_namespace(CLONE_NEWNS);
  if (own_mounts) {
    if (::mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) return sys_error("make / a slave mount");
    if (::mount(c.root.c_str(), c.root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
      return sys_error("bind " + c.root);
  }
  {
    UniqueFd rootfd = TRY(open_fd(c.root, O_PATH | O_DIRECTORY | O_CLOEXEC));
    for (const auto& m : c.mounts) TRY(mount_one(rootfd.get(), c, m));
    TRY(make_devices(rootfd.get(), c));
  }
  TRY(before_pivot());
  if (!own_mounts) {
    if (::chdir(c.root.c_str()) < 0 || ::chroot(".") < 0 || ::chdir("/") < 0) return sys_error("chroot " + c.root);
    return after_pivot(c);  // masked and read-only paths, a read-only root and propagation were refused
  }
  TRY(pivot_into(c.root));
  if (::mount(nullptr, "/", nullptr, prop, nullptr) < 0) return sys_error("set the root's propagation");
  return after_pivot(c);
}

}  // namespace kiln::runtime
