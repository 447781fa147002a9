// Merged-view lookups over unpacked layer trees.
#include "builder/image_view.h"

#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "common/fd.h"

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
  if (m_layers.empty()) return std::optional<struct stat>();
  auto rs = TRY(roots());
  for (auto it = rs.rbegin(); it != rs.rend(); ++it) {
    struct stat st;
    std::string p = *it + "/" + path;
    if (::lstat(p.c_str(), &st) == 0) {
      if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) return std::optional<struct stat>();  // whited out
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
      if (::lgetxattr((*it + "/" + parent).c_str(), "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y')
        hidden = true;
    }
    if (hidden) return std::optional<struct stat>();
  }
  return std::optional<struct stat>();
}

Result<std::optional<std::string>> ImageView::read(const std::string& path) {
  auto st = TRY(lookup(path));
  if (!st || !S_ISREG(st->st_mode)) return std::optional<std::string>();
  auto rs = TRY(roots());
  for (auto it = rs.rbegin(); it != rs.rend(); ++it) {
    auto text = read_file(*it + "/" + path, 16u << 20);
    if (text) return std::optional<std::string>(*text);
  }
  return std::optional<std::string>();
}

}  // namespace kiln::builder
