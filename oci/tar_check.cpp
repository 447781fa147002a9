// Streaming path checks for imported tarballs.
#include "oci/tar_check.h"

#include <archive.h>
#include <archive_entry.h>

#include <deque>

namespace kiln::oci {

namespace {

/// Components without "" and "."; ".." takes back the one before it, as Go's filepath.Clean does for docker's
/// and containerd's extractors (lexically: no symlink is followed); false when one would climb out of the root.
bool components(const std::string& path, std::vector<std::string>& out) {
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string c = path.substr(i, j - i);
    if (c == "..") {
      if (out.empty()) return false;
      out.pop_back();
      i = j + 1;
      continue;
    }
    if (!c.empty() && c != ".") out.push_back(std::move(c));
    i = j + 1;
  }
  return true;
}

std::string joined(const std::vector<std::string>& comps) {
  std::string s;
  for (const auto& c : comps) s += (s.empty() ? "" : "/") + c;
  return s;
}

Error unsafe(const std::string& name, const std::string& why) {
  return make_error(ErrorCode::unsafe, "entry \"" + name + "\": " + why + " (refused: the layer would be unsafe)");
}

}  // namespace

std::string archive_error_text(struct archive* a) {
  const char* s = archive_error_string(a);
  return s ? s : "unreadable data (libarchive gave no reason)";
}

Result<std::vector<std::string>> TarPathCheck::resolve(std::vector<std::string> comps, const std::string& name) const {
  std::deque<std::string> todo(comps.begin(), comps.end());
  std::vector<std::string> at;
  int hops = 0;
  while (!todo.empty()) {
    std::string c = std::move(todo.front());
    todo.pop_front();
    if (c == "..") {  // only from a link's target: climbing is fine while it stays beneath the root
      if (at.empty()) return unsafe(name, "a symlink on its path climbs out of the root");
      at.pop_back();
      continue;
    }
    at.push_back(c);
    auto link = m_links.find(joined(at));
    if (link == m_links.end()) continue;
    if (++hops > 40) return unsafe(name, "too many levels of symlinks on its path");
    const std::string& target = link->second;
    if (!target.empty() && target[0] == '/')
      return unsafe(name, "its parent \"" + joined(at) + "\" is a symlink to an absolute path");
    at.pop_back();
    std::vector<std::string> parts;
    size_t i = 0;
    while (i <= target.size()) {  // ".." kept here: it is resolved against where the link stands
      size_t j = target.find('/', i);
      if (j == std::string::npos) j = target.size();
      std::string p = target.substr(i, j - i);
      if (!p.empty() && p != ".") parts.push_back(std::move(p));
      i = j + 1;
    }
    todo.insert(todo.begin(), parts.begin(), parts.end());
  }
  return at;
}

Status TarPathCheck::check(struct archive_entry* e) {
  const char* raw = archive_entry_pathname(e);
  if (!raw) raw = archive_entry_pathname_utf8(e);
  if (!raw) return make_error(ErrorCode::corrupt, "an entry has no readable path");
  std::string name = raw;
  std::vector<std::string> comps;
  if (!components(name, comps)) return unsafe(name, "its path contains \"..\" that climbs out of the root");
  const char* hardlink = archive_entry_hardlink(e);
  if (comps.empty()) {
    if (hardlink || archive_entry_filetype(e) != AE_IFDIR) return unsafe(name, "the root of a layer must be a directory");
    return {};
  }
  std::string full = joined(comps);
  comps.pop_back();
  TRY(resolve(comps, name));
  if (hardlink) {
    std::vector<std::string> target;
    if (!components(hardlink, target))
      return unsafe(name, "its hard link target contains \"..\" that climbs out of the root");
    if (target.empty()) return unsafe(name, "its hard link target is the root");
    target.pop_back();
    TRY(resolve(target, name));
  }
  m_links.erase(full);
  if (!hardlink && archive_entry_filetype(e) == AE_IFLNK) {
    const char* to = archive_entry_symlink(e);
    if (!to) to = archive_entry_symlink_utf8(e);
    m_links[full] = to ? to : "";
  }
  return {};
}

}  // namespace kiln::oci
