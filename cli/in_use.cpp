// What a store must keep besides its tags: the build cache's layers and the images of running containers.
#include <sys/stat.h>

#include "builder/cache.h"
#include "cli/command.h"
#include "runtime/state.h"

namespace kiln::cli {

namespace {

bool same_dir(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return !a.empty() && ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

}  // namespace

std::vector<runtime::ContainerState> running_containers_of(const cas::Store& store) {
  std::vector<runtime::ContainerState> out;
  auto all = runtime::list_containers();
  if (!all) return out;
  for (auto& c : *all)
    if (same_dir(c.store_root, store.root())) out.push_back(std::move(c));
  return out;
}

Result<std::vector<cas::IndexEntry>> gc_roots(const cas::Store& store) {
  auto roots = TRY(builder::BuildCache(store).gc_roots());
  for (const auto& c : running_containers_of(store)) {
    auto d = cas::Digest::parse(c.image_digest);
    if (d) roots.push_back(cas::IndexEntry{"", *d, 0, ""});
  }
  return roots;
}

}  // namespace kiln::cli
