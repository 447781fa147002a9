// The mounts of a container without a mount namespace of its own: found by ID, taken down by ID.
#include "runtime/bundle_host_mounts.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>

#include <algorithm>
#include <cerrno>

#include "common/fd.h"
#include "runtime/mountinfo.h"

namespace kiln::runtime {

namespace {

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

std::vector<HostMount> lines_below(std::vector<MountLine> lines, const std::string& root) {
  std::vector<HostMount> out;
  for (auto& m : lines)
    if (below(m.point, root)) out.push_back(HostMount{m.id, std::move(m.point)});
  return out;
}

}  // namespace

std::vector<HostMount> mounts_below(const std::string& mountinfo, const std::string& root) {
  return lines_below(parse_mountinfo(mountinfo), root);
}

std::vector<HostMount> mounts_below(const std::string& root) { return lines_below(own_mountinfo(), root); }

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
