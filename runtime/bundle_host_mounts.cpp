// The mounts of a container without a mount namespace of its own: found by ID, taken down by ID.
#include "runtime/bundle_host_mounts.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <sstream>

#include "common/fd.h"
#include "common/number.h"

namespace kiln::runtime {

namespace {

/// mountinfo writes a space, tab, newline or backslash in a path as \ and three octal digits.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
        s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

/// The mount an fd is on, from /proc/self/fdinfo (glibc's struct statx has no stx_mnt_id).
uint64_t mount_id_of(int fd) {
  auto text = read_file("/proc/self/fdinfo/" + std::to_string(fd), 1u << 16);
  if (!text) return 0;
  auto at = text->find("mnt_id:");
  if (at == std::string::npos) return 0;
  return std::strtoull(text->c_str() + at + 7, nullptr, 10);
}

bool below(const std::string& path, const std::string& root) {
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          (root == "/" || path[root.size()] == '/'));
}

}  // namespace

std::vector<HostMount> mounts_below(const std::string& mountinfo, const std::string& root) {
  std::vector<HostMount> out;
  std::istringstream in(mountinfo);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, dev, fsroot, point;
    if (!(f >> id >> parent >> dev >> fsroot >> point)) continue;
    auto n = parse_uint(id, UINT64_MAX);
    std::string path = unescape(point);
    if (n && below(path, root)) out.push_back(HostMount{*n, path});
  }
  return out;
}

std::vector<HostMount> mounts_below(const std::string& root) {
  auto text = read_file("/proc/self/mountinfo", 64u << 20);
  return text ? mounts_below(*text, root) : std::vector<HostMount>{};
}

std::vector<HostMount> new_mounts(const std::vector<HostMount>& before, const std::vector<HostMount>& after) {
  std::vector<HostMount> out;
  for (const auto& m : after)
    if (std::none_of(before.begin(), before.end(), [&](const HostMount& b) { return b.id == m.id; })) out.push_back(m);
  return out;
}

Status unmount_host_mounts(const std::string& root, const std::vector<HostMount>& mounts) {
  if (mounts.empty()) return {};
  UniqueFd rootfd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  std::string left;
  for (auto m = mounts.rbegin(); m != mounts.rend(); ++m) {
    // Where the mount is now (the container may have renamed a directory on its way), as the kernel tells it.
    auto now = mounts_below(root);
    auto here = std::find_if(now.begin(), now.end(), [&](const HostMount& x) { return x.id == m->id; });
    if (here == now.end()) continue;  // gone already (detached with the mount it was on)
    // That path walked from the root with no symlink allowed leads to the recorded mount, or it is left alone.
    std::string rel = here->path == root ? "." : here->path.substr(root == "/" ? 1 : root.size() + 1);
    UniqueFd at(
        rootfd.get() < 0 ? -1 : openat2_raw(rootfd.get(), rel.c_str(), O_PATH, RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH));
    if (at.get() < 0 || mount_id_of(at.get()) != m->id || ::umount2(proc_fd_path(at.get()).c_str(), MNT_DETACH) < 0)
      left += (left.empty() ? "" : ", ") + here->path;
  }
  if (!left.empty())
    return make_error(ErrorCode::generic, "left mounted (not reachable from the root to unmount): " + left +
                                              "; unmount them by hand (umount -l)");
  return {};
}

}  // namespace kiln::runtime
