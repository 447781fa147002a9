// The working directory docker makes when the image lacks it, in kiln's top layer.
#include "runtime/workdir.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "common/fd.h"

namespace kiln::runtime {

namespace {

/// The working directory's path with "." and ".." taken out and no empty parts, as docker cleans it; its parts.
std::vector<std::string> clean_parts(const std::string& path) {
  std::vector<std::string> parts;
  size_t at = 0;
  while (at <= path.size()) {
    size_t end = path.find('/', at);
    if (end == std::string::npos) end = path.size();
    std::string p = path.substr(at, end - at);
    if (p == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!p.empty() && p != ".") {
      parts.push_back(p);
    }
    at = end + 1;
  }
  return parts;
}

}  // namespace

std::string clean_path(const std::string& path) {
  std::string out;
  for (const auto& p : clean_parts(path)) out += "/" + p;
  return out.empty() ? "/" : out;
}

// docker makes a working directory the image lacks (`-w /srv/new`); kiln's root is read-only, so the missing
// directories go into kiln's top layer before the container sees its root. The deepest part that exists is
// resolved in the mounted root, as the container will resolve it (an image's symlink on the way is followed
// inside the root, never out of it); its directories are copied into the top layer with the mode, owner and
// times the container sees (overlay shows a directory with the attributes of the topmost layer that has it),
// and the missing rest is made there root-owned, 0755. True when the top layer changed: the overlay must then
// be mounted again, as a mounted overlay does not follow changes to its layers.
Result<bool> make_missing_workdir(int rootfd, int scratchfd, const std::string& cwd) {
  std::vector<std::string> parts = clean_parts(cwd);
  auto in_root = [&](size_t n) {
    std::string rel;
    for (size_t i = 0; i < n; ++i) rel += (i ? "/" : "") + parts[i];
    return openat2_raw(rootfd, rel.empty() ? "." : rel.c_str(), O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  };
  size_t have = parts.size();
  int fd = in_root(have);
  if (fd >= 0 || errno != ENOENT) {  // there (or unreachable for another reason, which chdir then reports)
    if (fd >= 0) ::close(fd);
    return false;
  }
  // Up to the deepest part that exists; a part there but unreachable (a symlink loop) is chdir's to report.
  while (have > 0 && (fd = in_root(--have)) < 0)
    if (errno != ENOENT) return false;
  if (fd < 0) return false;
  UniqueFd ancestor(fd);
  struct stat st;
  if (::fstat(ancestor.get(), &st) < 0 || !S_ISDIR(st.st_mode)) return false;  // chdir says "not a directory"
  // Where the deepest existing part resolved to, relative to the root: read back from both fds' paths.
  char buf[2][4096];
  ssize_t rn = ::readlink(proc_fd_path(rootfd).c_str(), buf[0], sizeof buf[0] - 1);
  ssize_t an = ::readlink(proc_fd_path(ancestor.get()).c_str(), buf[1], sizeof buf[1] - 1);
  if (rn < 0 || an < 0) return sys_error("resolve the working directory " + cwd + " in the container");
  std::string root_path(buf[0], static_cast<size_t>(rn)), at(buf[1], static_cast<size_t>(an));
  if (at.compare(0, root_path.size(), root_path) != 0 || (at.size() > root_path.size() && at[root_path.size()] != '/'))
    return make_error(ErrorCode::generic, "working directory " + cwd + " resolves outside the container");
  std::vector<std::string> chain = clean_parts(at.substr(root_path.size()));
  for (size_t i = have; i < parts.size(); ++i) chain.push_back(parts[i]);
  size_t existing = chain.size() - (parts.size() - have);
  // The attributes first, read through the mounted root; then the directories, made in the top layer.
  std::vector<struct stat> attrs(existing);
  std::string rel;
  for (size_t i = 0; i < existing; ++i) {
    rel += (i ? "/" : "") + chain[i];
    if (::fstatat(rootfd, rel.c_str(), &attrs[i], AT_SYMLINK_NOFOLLOW) < 0) return sys_error("stat /" + rel);
  }
  int top = ::openat(scratchfd, "top", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (top < 0) return sys_error("open the top layer");
  UniqueFd dir(top);
  for (size_t i = 0; i < chain.size(); ++i) {
    const char* name = chain[i].c_str();
    bool made = ::mkdirat(dir.get(), name, 0755) == 0;
    if (!made && errno != EEXIST) return sys_error("make the working directory " + cwd);
    if (made) {
      bool copy = i < existing;
      mode_t mode = copy ? attrs[i].st_mode & 07777 : 0755;
      uid_t uid = copy ? attrs[i].st_uid : 0;
      gid_t gid = copy ? attrs[i].st_gid : 0;
      if (::fchownat(dir.get(), name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 || ::fchmodat(dir.get(), name, mode, 0) < 0)
        return sys_error("set the mode of the working directory " + cwd);
      if (copy) {
        struct timespec times[2] = {attrs[i].st_atim, attrs[i].st_mtim};
        (void)::utimensat(dir.get(), name, times, AT_SYMLINK_NOFOLLOW);
      }
    }
    int next = ::openat(dir.get(), name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) return sys_error("make the working directory " + cwd);
    dir.reset(next);
  }
  return true;
}

Status make_workdir_as_written(const std::string& cwd) {
  // The prefixes that end an element, longest first: "/a/b/../c", "/a/b/..", "/a/b", "/a" (trailing slashes off).
  std::vector<std::string> prefixes;
  size_t end = cwd.size();
  for (;;) {
    while (end > 0 && cwd[end - 1] == '/') --end;
    if (end == 0) break;
    prefixes.push_back(cwd.substr(0, end));
    while (end > 0 && cwd[end - 1] != '/') --end;
  }
  // From the longest back to the first that resolves to a directory, then each one after it made in turn.
  size_t have = 0;
  struct stat st;
  for (size_t i = 0; i < prefixes.size(); ++i)
    if (::stat(prefixes[i].c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode))
        return make_error(ErrorCode::invalid_argument,
                          "working directory " + cwd + ": " + prefixes[i] + " is not a directory");
      have = prefixes.size() - i;
      break;
    }
  for (size_t i = prefixes.size() - have; i-- > 0;) {
    const std::string& p = prefixes[i];
    if (::mkdir(p.c_str(), 0755) < 0 && !(::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)))
      return sys_error("make the working directory " + cwd + " (" + p + ")");
  }
  return {};
}

}  // namespace kiln::runtime
