// Root filesystem assembly.
#include "runtime/rootfs.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include "common/fd.h"
#include "common/identity.h"
#include "runtime/workdir.h"

namespace kiln::runtime {

namespace {

/// A path inside the root, resolved as if root were "/": symlinks in the image cannot lead out.
Result<UniqueFd> open_in_root(int rootfd, const std::string& path) {
  std::string rel = path;
  while (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
  if (rel.empty()) rel = ".";
  int fd = openat2_raw(rootfd, rel.c_str(), O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd < 0) return sys_error("resolve " + path + " in the container");
  return UniqueFd(fd);
}

Status mount_at(int rootfd, const std::string& target, const char* src, const char* type, unsigned long flags,
                const char* data = nullptr) {
  UniqueFd t = TRY(open_in_root(rootfd, target));
  if (::mount(src, proc_fd_path(t.get()).c_str(), type, flags, data) < 0)
    return sys_error("mount " + std::string(type ? type : "bind") + " on " + target);
  return {};
}

/// Make the bind mount at path read-only, nosuid and nodev where its source allows (a source mounted with
/// neither refuses them in a bind remount), else read-only alone.
bool remount_readonly(const char* path) {
  if (::mount(nullptr, path, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) == 0 ||
      ::mount(nullptr, path, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) == 0)
    return true;
  // In a user namespace (rootless) a mount's flags from the host are locked: keep every one it has.
  struct statvfs sv {};
  if (::statvfs(path, &sv) < 0) return false;
  unsigned long keep = 0;
  for (auto [st, ms] : {std::pair{ST_NOSUID, MS_NOSUID},
                        {ST_NODEV, MS_NODEV},
                        {ST_NOEXEC, MS_NOEXEC},
                        {ST_NOATIME, MS_NOATIME},
                        {ST_NODIRATIME, MS_NODIRATIME},
                        {ST_RELATIME, MS_RELATIME}})
    if (sv.f_flag & st) keep |= ms;
  return ::mount(nullptr, path, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, nullptr) == 0;
}

Status bind_at(int rootfd, const std::string& src, const std::string& target, bool readonly, bool recursive = true) {
  TRY(mount_at(rootfd, target, src.c_str(), nullptr, MS_BIND | (recursive ? MS_REC : 0)));
  if (readonly) {
    UniqueFd t = TRY(open_in_root(rootfd, target));  // the new mount, now on top
    if (!remount_readonly(proc_fd_path(t.get()).c_str())) return sys_error("make " + target + " read-only");
  }
  return {};
}

/// The container's /etc/resolv.conf: the host's with --network host or pasta (whose namespace reaches the host's
/// nameservers), else none; --dns and --dns-search replace its nameserver and search lines, as docker's do.
std::string resolv_conf(const ContainerSpec& spec) {
  std::string base;
  if (spec.network != Network::none) {
    auto host = read_file("/etc/resolv.conf");
    if (host) base = *host;
  }
  if (spec.dns_servers.empty() && spec.dns_search.empty()) return base;
  std::string out;
  size_t at = 0;
  while (at < base.size()) {
    size_t end = base.find('\n', at);
    std::string line = base.substr(at, end == std::string::npos ? std::string::npos : end - at);
    at = end == std::string::npos ? base.size() : end + 1;
    bool replaced = (!spec.dns_servers.empty() && line.rfind("nameserver", 0) == 0) ||
                    (!spec.dns_search.empty() && (line.rfind("search", 0) == 0 || line.rfind("domain", 0) == 0));
    if (!replaced) out += line + "\n";
  }
  for (const auto& ns : spec.dns_servers) out += "nameserver " + ns + "\n";
  if (!spec.dns_search.empty()) {
    out += "search";
    for (const auto& d : spec.dns_search) out += " " + d;
    out += "\n";
  }
  return out;
}

Status touch(const std::string& path, bool dir) {
  auto slash = path.rfind('/');
  TRY(make_dirs(path.substr(0, slash)));
  if (dir) return make_dirs(path);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return sys_error("create " + path);
  ::close(fd);
  return {};
}

/// A detached overlay mount (new mount API): lowers top first, one "lowerdir+" per layer so 500 layers never
/// overflow a mount option page; read-only without an upper dir.
Result<UniqueFd> make_overlay(const std::vector<std::string>& lowers, const std::string& upper,
                              const std::string& work) {
  int fs = static_cast<int>(::syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC));
  if (fs < 0) return sys_error("fsopen overlay");
  UniqueFd fsfd(fs);
  auto set = [&](const char* key, const std::string& value) -> Status {
    if (::syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key, value.c_str(), 0) < 0)
      return sys_error(std::string("overlay option ") + key + "=" + value);
    return {};
  };
  // A layer an image has twice (the empty layer of two RUNs that changed nothing, common in BuildKit's images)
  // is one directory, and overlay refuses a lower directory given twice (ELOOP). Only its topmost place counts:
  // what it holds is there in the end either way, and what it hides from below it hides from there too.
  std::set<std::string> seen;
  for (const auto& l : lowers)
    if (seen.insert(l).second) TRY(set("lowerdir+", l));
  // Rootless: overlay's own xattrs (opaque dirs) are user.overlay.*, as kiln's layer trees have them then.
  if (!in_initial_user_namespace() && ::syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "userxattr", nullptr, 0) < 0)
    return sys_error("overlay option userxattr (rootless kiln needs Linux 5.11 or later)");
  if (!upper.empty()) {
    TRY(set("upperdir", upper));
    TRY(set("workdir", work));
    // Changes must land in the upper as plain files and whiteouts, never as redirects or metacopies.
    (void)set("redirect_dir", in_initial_user_namespace() ? "off" : "nofollow");  // userxattr refuses "off"
    (void)set("metacopy", "off");
    (void)set("index", "off");
  }
  if (::syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) return sys_error("create overlay");
  int mnt = static_cast<int>(::syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, upper.empty() ? MOUNT_ATTR_RDONLY : 0));
  if (mnt < 0) return sys_error("fsmount overlay");
  return UniqueFd(mnt);
}

Status mount_overlay(const std::string& scratch, const ContainerSpec& spec, const std::string& target) {
  std::vector<std::string> lowers{scratch + "/top"};
  lowers.insert(lowers.end(), spec.layers.rbegin(), spec.layers.rend());
  UniqueFd mnt = TRY(make_overlay(lowers, spec.upperdir, spec.upperdir + ".work"));
  if (::syscall(SYS_move_mount, mnt.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return sys_error("attach overlay at " + target);
  return {};
}

/// An overlay of dir under a fresh tmpfs (upper and work in scratch, a new directory), attached at target:
/// the container may write there, and the writes vanish with the mount namespace.
Status overlay_discard_at(int rootfd, const std::string& dir, const std::string& scratch, const std::string& target) {
  if (::mkdir(scratch.c_str(), 0700) < 0) return sys_error("mkdir " + scratch);
  if (::mount("tmpfs", scratch.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
    return sys_error("mount a tmpfs for the writes to " + target);
  for (const char* d : {"/upper", "/work"})
    if (::mkdir((scratch + d).c_str(), 0755) < 0) return sys_error("mkdir " + scratch + d);
  UniqueFd mnt = TRY_CTX(make_overlay({dir}, scratch + "/upper", scratch + "/work"), target);
  UniqueFd t = TRY(open_in_root(rootfd, target));
  if (::syscall(SYS_move_mount, mnt.get(), "", t.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return sys_error("attach the overlay at " + target);
  return {};
}

/// /dev, with the container's root as the cwd (see prepare_rootfs): the scratch tmpfs's dev directory with the
/// device nodes, bound there, and its shm directory bound on /dev/shm, rather than a tmpfs each. A bind costs
/// a third of a new tmpfs to make and nothing to tear down; the price is one size limit for /dev, /dev/shm and
/// the top layer.
Status setup_dev(int scratchfd, const std::string& scratch) {
  int d = ::openat(scratchfd, "dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (d < 0) return sys_error("open the container's /dev");
  UniqueFd dev(d);
  // Device nodes made with mknod, as runc does outside a user namespace: cheaper than a bind mount each, and
  // nothing to unmount at exit. The scratch tmpfs is mounted without nodev for them. Nodes, directories and
  // links are made relative to the directory's fd (a walk through /proc/self/fd costs more than the call).
  const std::pair<const char*, dev_t> devices[] = {{"null", makedev(1, 3)},    {"zero", makedev(1, 5)},
                                                   {"full", makedev(1, 7)},    {"random", makedev(1, 8)},
                                                   {"urandom", makedev(1, 9)}, {"tty", makedev(5, 0)}};
  // In a user namespace (rootless) mknod is refused: empty files, with the host's nodes bound on them below.
  bool bind_nodes = !in_initial_user_namespace();
  mode_t umask_was = ::umask(0);  // 0666 whatever kiln's umask (the container's own is restored at once)
  for (const auto& [name, dev] : devices) {
    int made = bind_nodes ? ::openat(d, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)
                          : ::mknodat(d, name, S_IFCHR | 0666, dev);
    if (bind_nodes && made >= 0) ::close(made);
    if (made < 0) {
      int e = errno;
      ::umask(umask_was);
      return sys_error(std::string("mknod /dev/") + name, e);
    }
  }
  ::umask(umask_was);
  for (const char* dir : {"pts", "shm", "mqueue"})
    if (::mkdirat(d, dir, 0755) < 0 && errno != EEXIST)  // EEXIST: made for a mount below it
      return sys_error(std::string("mkdir /dev/") + dir);
  const std::pair<const char*, const char*> links[] = {{"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"},
                                                       {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
                                                       {"ptmx", "pts/ptmx"},          {"core", "/proc/kcore"}};
  // /dev/core only where the kernel has /proc/kcore, as runc makes it (else it would dangle).
  bool kcore = ::access("/proc/kcore", F_OK) == 0;
  for (const auto& [name, target] : links)
    if ((kcore || std::strcmp(name, "core") != 0) && ::symlinkat(target, d, name) < 0)
      return sys_error(std::string("symlink /dev/") + name);
  if (::mount((scratch + "/dev").c_str(), "dev", nullptr, MS_BIND, nullptr) < 0) return sys_error("bind /dev");
  if (bind_nodes)
    for (const auto& [name, dev] : devices)
      if (::mount((std::string("/dev/") + name).c_str(), (std::string("dev/") + name).c_str(), nullptr, MS_BIND,
                  nullptr) < 0)
        return sys_error(std::string("bind the host's /dev/") + name);
  if (::mount((scratch + "/shm").c_str(), "dev/shm", nullptr, MS_BIND, nullptr) < 0 ||
      ::mount(nullptr, "dev/shm", nullptr, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0)
    return sys_error("bind /dev/shm");
  auto mount_in_dev = [&](const char* name, const char* src, const char* type, unsigned long flags,
                          const char* data) -> Status {
    if (::mount(src, (std::string("dev/") + name).c_str(), type, flags, data) < 0)
      return sys_error(std::string("mount ") + type + " on /dev/" + name);
    return {};
  };
  // gid 5 (tty) is not mapped when a rootless kiln maps the user's own id alone: then the user's group.
  if (!mount_in_dev("pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"))
    TRY(mount_in_dev("pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"));
  TRY(mount_in_dev("mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr));
  return {};
}

/// docker's masks in a fresh kernel filesystem (procfs, sysfs) whose root is the current directory: entries
/// the kernel made, no symlink an image could plant, so one mount call each by name and no lookup. A file is
/// hidden behind /dev/null, a directory behind an empty read-only tmpfs, made once: the other directories get a
/// bind of it (which keeps its flags), since a tmpfs each cost a superblock to make and to tear down. empty is
/// the container path of such a directory masked before, bound from only after the pivot ("" for none); it is
/// set to the first one masked here. An entry this kernel lacks is skipped.
Status mask_here(const char* where, std::initializer_list<const char*> files, std::initializer_list<const char*> dirs,
                 std::string& empty) {
  auto masked = [where](int r, const char* name) -> Status {
    if (r == 0 || errno == ENOENT) return {};
    return sys_error(std::string("mask ") + where + "/" + name);
  };
  for (const char* f : files) TRY(masked(::mount("/dev/null", f, nullptr, MS_BIND, nullptr), f));
  const char* first = nullptr;  // relative to the cwd
  for (const char* d : dirs) {
    const char* src = first ? first : empty.empty() ? nullptr : empty.c_str();
    if (src) {
      TRY(masked(::mount(src, d, nullptr, MS_BIND, nullptr), d));
    } else if (::mount("tmpfs", d, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0") == 0) {
      first = d;
      empty = std::string(where) + "/" + d;
    } else {
      TRY(masked(-1, d));
    }
  }
  return {};
}

/// docker's masked and read-only paths under /proc, from a cwd inside the fresh proc mount. The cwd stays
/// there: nothing after this resolves a relative path before the pivot.
Status protect_proc(int rootfd, std::string& empty) {
  UniqueFd proc = TRY(open_in_root(rootfd, "/proc"));
  if (::fchdir(proc.get()) < 0) return sys_error("chdir into the container's /proc");
  TRY(mask_here("/proc", {"kcore", "keys", "timer_list", "sched_debug", "latency_stats"}, {"acpi", "scsi"}, empty));
  for (const char* p : {"bus", "fs", "irq", "sys", "sysrq-trigger"}) {
    // bind the path onto itself, then make that new mount read-only
    if (::mount(p, p, nullptr, MS_BIND | MS_REC, nullptr) < 0) {
      if (errno == ENOENT) continue;
      return sys_error(std::string("bind /proc/") + p);
    }
    if (!remount_readonly(p)) return sys_error(std::string("make /proc/") + p + " read-only");
  }
  return {};
}

}  // namespace

Status check_mount_sources(const ContainerSpec& spec) {
  for (const auto& m : spec.mounts) {
    struct stat st;
    if (m.type == MountSpec::Type::bind && ::stat(m.source.c_str(), &st) < 0)
      return make_error(ErrorCode::not_found, "bind source path does not exist: " + m.source);
  }
  return {};
}

namespace {

/// The generated /etc files a build's RUN gets bound over its writable root.
constexpr const char* kBuildEtcBinds[] = {"hosts", "resolv.conf"};

/// In the child's own mount namespace: a small tmpfs over dir (kiln's containers directory, hidden from this
/// namespace alone) holds the top layer (mountpoints for /proc, /dev, /sys, /tmp, /etc/hosts…, volume
/// targets), the generated /etc files and the rootfs mountpoint.
/// It never touches the host's disk and vanishes with the namespace, whatever happens to kiln.
Result<UniqueFd> make_scratch(const std::string& dir, const ContainerSpec& spec) {
  // Not nodev: /dev is its dev directory (setup_dev). 64 MiB as docker gives /dev, shared with /dev/shm.
  if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=0700,size=64m") < 0)
    return sys_error("mount the container's scratch tmpfs");
  // Made relative to the new tmpfs: one lookup per call instead of a walk of the containers directory's path.
  UniqueFd scratch = TRY(open_fd(dir, O_PATH | O_DIRECTORY));
  int sd = scratch.get();
  std::string top = dir + "/top";
  for (const char* d : {"top", "top/proc", "top/sys", "top/dev", "top/tmp", "top/etc", "rootfs", "dev", "shm"})
    if (::mkdirat(sd, d, 0755) < 0) return sys_error(std::string("mkdir ") + d);
  ::fchmodat(sd, "top/tmp", 01777, 0);
  ::fchmodat(sd, "shm", 01777, 0);
  for (const auto& m : spec.mounts) {
    bool is_dir = true;
    if (m.type == MountSpec::Type::bind) {
      struct stat st;
      if (::stat(m.source.c_str(), &st) < 0) return sys_error("bind source " + m.source);
      is_dir = S_ISDIR(st.st_mode);
    }
    // Under /dev the mountpoint goes into the dev directory that setup_dev binds there (and /dev/shm's into
    // shm), where the bind will find it; elsewhere into the top layer.
    std::string at = m.target.rfind("/dev/shm/", 0) == 0 ? dir + "/shm/" + m.target.substr(9)
                     : m.target.rfind("/dev/", 0) == 0   ? dir + m.target
                                                         : top + m.target;
    TRY(touch(at, is_dir));
  }
  // A read-only root gets the generated files right in the top layer, where they shadow the image's (no
  // mounts to make or tear down); a RUN step's writable root gets hosts and resolv.conf bind-mounted read-only,
  // so a step that writes them fails instead of baking them into its layer, and its /etc/hostname is the
  // image's own, which the step may write into its layer: all three as BuildKit's RUN has them.
  std::string etc = spec.upperdir.empty() ? "top/etc/" : "etc/";
  if (!spec.upperdir.empty()) {
    if (::mkdirat(sd, "etc", 0755) < 0) return sys_error("mkdir " + dir + "/etc");
    for (const char* f : kBuildEtcBinds) TRY(touch(top + "/etc/" + f, false));
  }
  // A RUN step's hosts file is BuildKit's, word for word (a step may copy it); a container's names its host.
  std::string hosts =
      spec.upperdir.empty()
          ? "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t" + spec.hostname + "\n"
          : "127.0.0.1\tlocalhost " + spec.hostname + "\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  for (const auto& line : spec.extra_hosts) hosts += line + "\n";
  auto write = [&](const std::string& name, const std::string& text) -> Status {
    int fd = ::openat(sd, (etc + name).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return sys_error("create " + dir + "/" + etc + name);
    UniqueFd owned(fd);
    return write_all(fd, text);
  };
  TRY(write("hosts", hosts));
  if (spec.upperdir.empty()) TRY(write("hostname", spec.hostname + "\n"));
  TRY(write("resolv.conf", resolv_conf(spec)));
  return scratch;
}

}  // namespace

Result<std::string> prepare_rootfs(const std::string& scratch, const ContainerSpec& spec) {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) return sys_error("make mounts private");
  UniqueFd scratchfd = TRY(make_scratch(scratch, spec));
  std::string rootfs = scratch + "/rootfs";
  TRY(mount_overlay(scratch, spec, rootfs));
  UniqueFd root = TRY(open_fd(rootfs, O_PATH | O_DIRECTORY));
  if (spec.upperdir.empty() && !spec.cwd.empty() && spec.cwd != "/" &&
      TRY(make_missing_workdir(root.get(), scratchfd.get(), spec.cwd))) {
    root.reset();
    if (::umount2(rootfs.c_str(), MNT_DETACH) < 0) return sys_error("unmount the container's root");
    TRY(mount_overlay(scratch, spec, rootfs));
    root = TRY(open_fd(rootfs, O_PATH | O_DIRECTORY));
  }
  int r = root.get();
  // proc, dev and sys are directories of kiln's top layer, which shadows whatever the image has at those
  // names: from the root as the cwd they are mounted on by name, with no symlink of the image on the way.
  // (Cheaper than mount_at's walk through /proc/self/fd, which makes the new process's proc entries.)
  if (::fchdir(r) < 0) return sys_error("chdir into the container's root");
  if (::mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0)
    return sys_error("mount proc on /proc");
  TRY(setup_dev(scratchfd.get(), scratch));
  scratchfd.reset();
  if (!spec.upperdir.empty())
    for (const char* f : kBuildEtcBinds) TRY(bind_at(r, scratch + "/etc/" + f, std::string("/etc/") + f, true, false));
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const auto& m = spec.mounts[i];
    if (m.type == MountSpec::Type::tmpfs) {
      std::string opts = m.options.empty() ? "mode=1777" : m.options;
      unsigned long flags = MS_NOSUID | MS_NODEV | (m.readonly ? MS_RDONLY : 0) | (m.noexec ? MS_NOEXEC : 0);
      TRY(mount_at(r, m.target, "tmpfs", "tmpfs", flags, opts.c_str()));
    } else if (m.discard_writes) {
      TRY(overlay_discard_at(r, m.source, scratch + "/rw" + std::to_string(i), m.target));
    } else {
      TRY(bind_at(r, m.source, m.target, m.readonly));
    }
  }
  std::string empty;  // a masked, empty read-only directory, for /sys's masks to bind
  TRY(protect_proc(r, empty));
  // A host /sys for --network host is bound now, while the host's tree is still reachable.
  // Rootless too: in a user namespace a sysfs can be mounted only where one is visible already (before the
  // pivot), and then it would show the host's network devices either way.
  if (spec.network == Network::host || !in_initial_user_namespace()) TRY(bind_at(r, "/sys", "/sys", true));
  if (::fchdir(r) < 0) return sys_error("chdir into the container's root");
  root.reset();
  if (::syscall(SYS_pivot_root, ".", ".") < 0) return sys_error("pivot_root");
  if (::umount2(".", MNT_DETACH) < 0) return sys_error("detach the host root");
  if (::chdir("/") < 0) return sys_error("chdir /");
  // A writable root (a build's RUN): the working directory made as runc makes it, from the path as written.
  if (!spec.upperdir.empty() && !spec.cwd.empty()) TRY(make_workdir_as_written(spec.cwd));
  return empty;
}

Status finish_rootfs(const ContainerSpec& spec, std::string empty) {
  UniqueFd root = TRY(open_fd("/", O_PATH | O_DIRECTORY));
  int r = root.get();
  // sysfs shows the network devices of the namespace its mounter is in: mounted only now, in the container's.
  // After the pivot every path resolves inside the container, and /sys is a directory of the top layer.
  if (spec.network != Network::host && in_initial_user_namespace() &&
      ::mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0)
    return sys_error("mount sysfs on /sys");
  UniqueFd sys = TRY(open_in_root(r, "/sys"));
  if (::fchdir(sys.get()) < 0) return sys_error("chdir into the container's /sys");
  TRY(mask_here("/sys", {}, {"firmware", "devices/virtual/powercap"}, empty));
  if (::chdir("/") < 0) return sys_error("chdir /");
  return {};
}

}  // namespace kiln::runtime
