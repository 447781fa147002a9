// Merged-view lookups over unpacked layer trees.
#include "builder/image_view.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "common/fd.h"
#include "common/identity.h"

namespace kiln::builder {

Result<std::vector<std::string>> ImageView::roots() {
  if (!m_roots) {
    oci::Image img;
    img.manifest.layers = m_layers;
    img.config.diff_ids = m_diff_ids;
    m_roots = TRY(m_images.layer_roots(img));
  }
  return *m_roots;
}

Result<std::optional<struct stat>> ImageView::lookup(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return lookup_resolved(path);
  std::string parent = TRY(resolve(path.substr(0, slash), true));
  return lookup_resolved((parent.empty() ? "" : parent + "/") + path.substr(slash + 1));
}

Result<std::string> ImageView::resolve(const std::string& path, bool follow_last) {
  std::vector<std::string> todo, at;
  auto push_parts = [&todo](const std::string& p) {  // in reverse, so back() is the next component
    std::vector<std::string> parts;
    size_t i = 0;
    while (i <= p.size()) {
      size_t j = p.find('/', i);
      if (j == std::string::npos) j = p.size();
      std::string c = p.substr(i, j - i);
      if (!c.empty() && c != ".") parts.push_back(c);
      i = j + 1;
    }
    todo.insert(todo.end(), parts.rbegin(), parts.rend());
  };
  auto joined = [&at] {
    std::string s;
    for (const auto& c : at) s += (s.empty() ? "" : "/") + c;
    return s;
  };
  push_parts(path);
  int hops = 0;
  while (!todo.empty()) {
    std::string c = todo.back();
    todo.pop_back();
    if (c == "..") {
      if (!at.empty()) at.pop_back();
      continue;
    }
    at.push_back(c);
    if (todo.empty() && !follow_last) break;
    std::string layer;
    auto st = TRY(lookup_resolved(joined(), &layer));
    if (!st) {  // the rest does not exist: nothing more to follow
      for (auto it = todo.rbegin(); it != todo.rend(); ++it) at.push_back(*it);
      break;
    }
    if (!S_ISLNK(st->st_mode)) continue;
    if (++hops > 40) return make_error(ErrorCode::invalid_argument, "too many levels of symlinks in /" + path);
    char target[4096];
    ssize_t n = ::readlink((layer + "/" + joined()).c_str(), target, sizeof target - 1);
    if (n < 0) return sys_error("read the symlink /" + joined());
    target[n] = '\0';
    at.pop_back();
    if (target[0] == '/') at.clear();
    push_parts(target);
  }
  return joined();
}

Result<std::optional<struct stat>> ImageView::lookup_resolved(const std::string& path, std::string* layer) {
  if (m_layers.empty()) return std::optional<struct stat>();
  auto rs = TRY(roots());
  for (auto it = rs.rbegin(); it != rs.rend(); ++it) {
    // lstat beneath the layer without following any symlink of it on the way (they are the image's, and would
    // lead into the host's file system): a parent that is a symlink in this layer hides the rest below.
    struct stat st;
    UniqueFd dir = TRY(open_fd(*it, O_PATH | O_DIRECTORY));
    int fd = openat2_raw(dir.get(), path.empty() ? "." : path.c_str(), O_PATH | O_NOFOLLOW,
                         RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    if (fd < 0 && errno == ELOOP) return std::optional<struct stat>();
    UniqueFd entry(fd);
    if (fd >= 0 && ::fstat(fd, &st) == 0) {
      if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) return std::optional<struct stat>();  // whited out
      if (layer) *layer = *it;
      return std::optional<struct stat>(st);
    }
    // An opaque parent in this layer hides everything below it in lower layers.
    std::string parent = path;
    bool hidden = false;
    while (!hidden) {
      auto slash = parent.rfind('/');
      if (slash == std::string::npos) break;
      parent = parent.substr(0, slash);
      char v[2];
      if (::lgetxattr((*it + "/" + parent).c_str(), overlay_opaque_xattr().c_str(), v, sizeof v) == 1 && v[0] == 'y')
        hidden = true;
    }
    if (hidden) return std::optional<struct stat>();
  }
  return std::optional<struct stat>();
}

Result<std::optional<std::string>> ImageView::read(const std::string& path) {
  std::string real = TRY(resolve(path, true));
  std::string layer;
  auto st = TRY(lookup_resolved(real, &layer));
  if (!st || !S_ISREG(st->st_mode)) return std::optional<std::string>();
  auto text = read_file(layer + "/" + real, 16u << 20);  // every parent is a real directory of that layer
  if (!text) return std::move(text).error();
  return std::optional<std::string>(std::move(*text));
}

}  // namespace kiln::builder
