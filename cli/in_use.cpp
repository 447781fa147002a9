// What a store must keep besides its tags: the build cache's layers and the images of running containers.
#include <sys/stat.h>

#include <algorithm>

#include "builder/build_lease.h"
#include "builder/cache.h"
#include "cli/command.h"
#include "oci/image_store.h"
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

std::set<cas::Digest> manifests_in_use(cas::Store& store) {
  std::set<cas::Digest> used;
  for (const auto& c : running_containers_of(store))
    if (auto d = cas::Digest::parse(c.image_digest)) used.insert(*d);
  auto building = builder::images_in_running_builds(store);  // image IDs: their manifests from the store
  if (!building.empty())
    if (auto images = oci::ImageStore(store).list())
      for (const auto& img : *images)
        if (std::find(building.begin(), building.end(), img.id().str()) != building.end())
          used.insert(img.entry.digest);
  return used;
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
