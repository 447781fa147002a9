// kiln info: where kiln keeps things, how much they take, and which kernel features it relies on here.
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cas/store.h"
#include "cli/command.h"
#include "common/fd.h"
#include "common/identity.h"
#include "common/json.h"
#include "runtime/state.h"

namespace kiln::cli {

namespace {

struct DirUse {
  uint64_t count = 0, bytes = 0;
};

/// The regular files directly in dir: how many, how many bytes.
DirUse files_in(const std::string& dir) {
  DirUse u;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return u;
  while (auto* e = ::readdir(d)) {
    struct stat st;
    if (e->d_name[0] != '.' && ::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
      ++u.count;
      u.bytes += static_cast<uint64_t>(st.st_size);
    }
  }
  ::closedir(d);
  return u;
}

/// The unpacked layer trees, by what each one's info.json recorded when it was extracted.
DirUse layer_trees(const std::string& dir) {
  DirUse u;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return u;
  while (auto* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    auto text = read_file(dir + "/" + e->d_name + "/info.json", 1u << 16);
    if (!text) continue;
    ++u.count;
    try {
      u.bytes += json_uint(parse_json(*text), "bytes", 0);
    } catch (const nlohmann::json::exception&) {
    }
  }
  ::closedir(d);
  return u;
}

std::string first_line(const std::string& path) {
  auto t = read_file(path, 4096);
  if (!t) return "";
  return t->substr(0, t->find('\n'));
}

std::string cgroup_setup() {
  bool unified = path_exists("/sys/fs/cgroup/cgroup.controllers");
  bool hybrid = path_exists("/sys/fs/cgroup/unified/cgroup.controllers");
  std::string v1;
  for (const char* c : {"cpu", "cpuset", "memory", "pids", "devices", "freezer", "blkio"})
    if (path_exists(std::string("/sys/fs/cgroup/") + c + "/cgroup.procs")) v1 += std::string(v1.empty() ? "" : " ") + c;
  if (unified) return "v2 (unified, /sys/fs/cgroup: " + first_line("/sys/fs/cgroup/cgroup.controllers") + ")";
  if (hybrid) return "hybrid: v2 at /sys/fs/cgroup/unified, v1 controllers " + (v1.empty() ? "none" : v1);
  return v1.empty() ? "none found" : "v1 (" + v1 + ")";
}

/// This process's uid map, as "0 -> 1001 (1), 1 -> 100000 (65535)".
std::string id_maps() {
  auto text = read_file("/proc/self/uid_map", 4096);
  if (!text) return "uid map unknown";
  std::istringstream in(*text);
  std::string out;
  unsigned long inside, outside, count;
  while (in >> inside >> outside >> count)
    out += (out.empty() ? "" : ", ") + std::to_string(inside) + " -> " + std::to_string(outside) + " (" +
           std::to_string(count) + ")";
  return "ids " + out;
}

void feature(const char* name, bool yes, const std::string& detail = "") {
  std::cout << "  " << name << std::string(32 - std::min<size_t>(31, std::strlen(name)), ' ') << (yes ? "yes" : "no")
            << (detail.empty() ? "" : " (" + detail + ")") << "\n";
}

Status info(const Context& ctx) {
  auto store = TRY(cas::Store::open(ctx.root));
  std::cout << "Store:                " << store.root() << "\n";
  size_t tags = 0;
  for (const auto& e : TRY(store.list())) tags += e.ref.empty() ? 0 : 1;
  DirUse blobs = files_in(store.blobs_dir());
  DirUse trees = layer_trees(store.private_dir() + "/layers");
  std::cout << "  tagged images:      " << tags << "\n"
            << "  blobs:              " << blobs.count << " (" << human_size(blobs.bytes) << ")\n"
            << "  unpacked layers:    " << trees.count << " (" << human_size(trees.bytes) << ")\n";
  std::cout << "Run directory:        " << runtime::containers_dir() << "\n";
  auto running = runtime::list_containers();
  std::cout << "  running containers: " << (running ? std::to_string(running->size()) : "unknown") << "\n";
  std::cout << "Rootless:             "
            << (rootless() ? "yes, for uid " + std::to_string(host_uid()) + " (" + id_maps() + ")" : "no") << "\n";
  struct utsname u;
  std::cout << "Kernel:               " << (::uname(&u) == 0 ? u.release : "unknown") << "\n"
            << "Cgroups:              " << cgroup_setup() << "\n"
            << "Kernel features kiln uses:\n";
  auto fs = read_file("/proc/filesystems", 1u << 16);
  feature("overlay filesystem", fs && fs->find("\toverlay\n") != std::string::npos);
  std::string userns_max = first_line("/proc/sys/user/max_user_namespaces");
  feature("user namespaces", !userns_max.empty() && userns_max != "0", "max " + userns_max);
  std::string clone_ok = first_line("/proc/sys/kernel/unprivileged_userns_clone");
  if (!clone_ok.empty())
    feature("unprivileged user namespaces", clone_ok != "0", "kernel.unprivileged_userns_clone=" + clone_ok);
  feature("seccomp filters", path_exists("/proc/sys/kernel/seccomp/actions_avail"),
          first_line("/proc/sys/kernel/seccomp/actions_avail"));
  feature("time namespaces", path_exists("/proc/self/ns/time"));
  // cgroup.freeze exists in every non-root v2 cgroup since Linux 5.2.
  bool v2 =
      path_exists("/sys/fs/cgroup/cgroup.controllers") || path_exists("/sys/fs/cgroup/unified/cgroup.controllers");
  unsigned major = 0, minor = 0;
  std::sscanf(u.release, "%u.%u", &major, &minor);
  feature("cgroup v2 freezer", v2 && (major > 5 || (major == 5 && minor >= 2)));
  struct open_how how = {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT;
  int fd = static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how));
  feature("openat2 (RESOLVE_IN_ROOT)", fd >= 0);
  if (fd >= 0) ::close(fd);
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
  feature("pidfd", pidfd >= 0);
  if (pidfd >= 0) ::close(pidfd);
  std::string noexec = first_line("/proc/sys/vm/memfd_noexec");
  feature("executable memfds", noexec.empty() || noexec != "2",
          noexec.empty() ? "" : "vm.memfd_noexec=" + noexec + (noexec == "2" ? ": kiln uses a temporary file" : ""));
  return {};
}

}  // namespace

void register_info_command(CLI::App& app, Context& ctx) {
  app.add_subcommand("info", "Show the store, the run directory and the kernel features kiln uses here")
      ->callback([&ctx] { ctx.action = [&ctx] { return info(ctx); }; });
}

}  // namespace kiln::cli
