// Build leases: one small locked file per running build.
#include "builder/build_lease.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>

namespace kiln::builder {

namespace {
std::string leases_dir(const cas::Store& store) { return store.private_dir() + "/builds"; }
}  // namespace

Result<BuildLease> BuildLease::open(const cas::Store& store) {
  static std::atomic<int> n{0};
  TRY(make_dirs(leases_dir(store), 0700));
  BuildLease l;
  l.m_path = leases_dir(store) + "/" + std::to_string(::getpid()) + "-" + std::to_string(n++);
  l.m_fd = TRY(open_fd(l.m_path, O_RDWR | O_CREAT | O_TRUNC, 0600));
  if (::flock(l.m_fd.get(), LOCK_EX) < 0) return sys_error("lock " + l.m_path);
  return l;
}

BuildLease::~BuildLease() {
  if (!m_path.empty()) ::unlink(m_path.c_str());
}

void BuildLease::add(const std::string& image_id) {
  if (m_fd.get() < 0) return;
  m_ids.push_back(image_id);
  (void)write_all(m_fd.get(), image_id + "\n");  // appended: a reader sees whole lines
}

std::vector<std::string> images_in_running_builds(const cas::Store& store) {
  std::vector<std::string> ids;
  auto names = list_dir(leases_dir(store));
  if (!names) return ids;
  for (const auto& n : *names) {
    std::string path = leases_dir(store) + "/" + n;
    auto fd = open_fd(path, O_RDONLY);
    if (!fd) continue;
    if (::flock(fd->get(), LOCK_SH | LOCK_NB) == 0) {  // nobody holds it: that build is gone
      ::unlink(path.c_str());
      continue;
    }
    auto text = read_fd(fd->get(), 1 << 20);
    if (!text) continue;
    size_t at = 0;
    while (at < text->size()) {
      size_t nl = text->find('\n', at);
      if (nl == std::string::npos) break;
      ids.push_back(text->substr(at, nl - at));
      at = nl + 1;
    }
  }
  return ids;
}

}  // namespace kiln::builder
