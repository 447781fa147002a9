// kiln system df, kiln system prune, kiln image prune: what the store holds, what could go, and letting it go.
#include <iostream>
#include <set>

#include "builder/cache.h"
#include "cas/gc.h"
#include "cas/graph.h"
#include "cas/layer_trees.h"
#include "cli/command.h"
#include "cli/go_template.h"
#include "oci/blob_locations.h"
#include "oci/reference.h"

namespace kiln::cli {

namespace {

uint64_t blob_bytes(const cas::Reachable& r, const cas::Reachable* minus = nullptr) {
  uint64_t n = 0;
  for (const auto& [d, size] : r.blobs)
    if (!minus || !minus->blobs.count(d)) n += size;
  return n;
}

uint64_t tree_bytes(const cas::Store& store, const cas::Reachable& r, const cas::Reachable* minus = nullptr) {
  cas::LayerTrees trees(store);
  uint64_t n = 0;
  for (const auto& id : r.trees)
    if (!minus || !minus->trees.count(id))
      if (auto info = trees.read_info(id)) n += info->bytes;
  return n;
}

std::string with_share(uint64_t part, uint64_t whole) {
  return human_size(part) + " (" + std::to_string(whole ? part * 100 / whole : 0) + "%)";
}

Status system_df(Context& ctx, const std::string& format) {
  auto store = TRY(ctx.store());
  auto entries = TRY(store.list());
  auto used = manifests_in_use(store);
  std::vector<cas::IndexEntry> active_entries;
  std::set<cas::Digest> images;
  for (const auto& e : entries) {
    images.insert(e.digest);
    if (used.count(e.digest)) active_entries.push_back(e);
  }
  cas::Reachable all = cas::walk_reachable(store, entries), active = cas::walk_reachable(store, active_entries);
  auto cache_roots = TRY(builder::BuildCache(store).gc_roots());
  cas::Reachable cache = cas::walk_reachable(store, cache_roots);
  size_t active_images = 0;
  for (const auto& d : images) active_images += used.count(d);
  size_t containers = running_containers_of(store).size();
  uint64_t image_bytes = blob_bytes(all), image_free = blob_bytes(all, &active);
  uint64_t tree_total = tree_bytes(store, all), tree_free = tree_bytes(store, all, &active);
  // The build cache's own: layers no image has (they go with kiln builder prune).
  uint64_t cache_bytes = blob_bytes(cache, &all) + tree_bytes(store, cache, &all);
  std::vector<nlohmann::json> rows = {
      {{"Type", "Images"},
       {"TotalCount", images.size()},
       {"Active", active_images},
       {"Size", human_size(image_bytes)},
       {"Reclaimable", with_share(image_free, image_bytes)}},
      {{"Type", "Unpacked layers"},
       {"TotalCount", all.trees.size()},
       {"Active", active.trees.size()},
       {"Size", human_size(tree_total)},
       {"Reclaimable", with_share(tree_free, tree_total)}},
      {{"Type", "Containers"},
       {"TotalCount", containers},
       {"Active", containers},
       {"Size", "0B"},
       {"Reclaimable", "0B (0%)"}},
      {{"Type", "Build Cache"},
       {"TotalCount", cache_roots.size()},
       {"Active", 0},
       {"Size", human_size(cache_bytes)},
       {"Reclaimable", human_size(cache_bytes)}},
  };
  std::string f = format.empty() || format == "table"
                      ? "table {{.Type}}\\t{{.TotalCount}}\\t{{.Active}}\\t{{.Size}}\\t{{.Reclaimable}}"
                      : format;
  return print_formatted(f, rows,
                         {{"Type", "TYPE"},
                          {"TotalCount", "TOTAL"},
                          {"Active", "ACTIVE"},
                          {"Size", "SIZE"},
                          {"Reclaimable", "RECLAIMABLE"}},
                         std::cout);
}

/// Untag what nothing runs: dangling images (no tag), or with all every image no container uses; then gc.
Status prune_images(cas::Store& store, bool all, uint64_t& reclaimed) {
  auto used = manifests_in_use(store);
  std::vector<std::string> gone;
  TRY(store.update_index([&](std::vector<cas::IndexEntry>& entries) -> Status {
    std::erase_if(entries, [&](const cas::IndexEntry& e) {
      bool prune = !used.count(e.digest) && (all || e.ref.empty());
      if (!prune) return false;
      auto r = oci::Reference::parse(e.ref);
      gone.push_back(e.ref.empty() ? "deleted: " + e.digest.str() : "untagged: " + (r ? r->familiar() : e.ref));
      return true;
    });
    return {};
  }));
  if (!gone.empty()) {
    std::cout << "Deleted Images:\n";
    for (const auto& g : gone) std::cout << g << "\n";
  }
  auto rep = TRY(cas::collect_garbage(store, TRY(gc_roots(store))));
  oci::forget_missing_locations(store);
  reclaimed += rep.blob_bytes + rep.tree_bytes;
  return {};
}

Status image_prune(Context& ctx, bool all) {
  auto store = TRY(ctx.store());
  uint64_t reclaimed = 0;
  TRY(prune_images(store, all, reclaimed));
  std::cout << "Total reclaimed space: " << human_size(reclaimed) << "\n";
  return {};
}

Status system_prune(Context& ctx, bool all) {
  auto store = TRY(ctx.store());
  size_t records = TRY(builder::BuildCache(store).prune());
  uint64_t reclaimed = 0;
  TRY(prune_images(store, all, reclaimed));
  std::cout << "Dropped " << records << " build cache records\n";
  std::cout << "Total reclaimed space: " << human_size(reclaimed) << "\n";
  return {};
}

}  // namespace

void register_system_commands(CLI::App& app, Context& ctx) {
  // Reached as `kiln system df|prune` and `kiln image prune` (main.cpp's aliases); hidden under these names.
  auto* df = app.add_subcommand("system-df", "Show what the store holds and what could be reclaimed")->group("");
  auto format = std::make_shared<std::string>();
  df->add_option("--format", *format, "table (default) or a Go template ('{{.Type}} {{.Size}}')");
  df->callback([&ctx, format] { ctx.action = [&ctx, format] { return system_df(ctx, *format); }; });

  auto all = std::make_shared<bool>(false), force = std::make_shared<bool>(false);
  auto* sp = app.add_subcommand("system-prune", "Remove the build cache and dangling images (-a: every unused one)")
                 ->group("");
  sp->add_flag("-a,--all", *all, "every image no running container uses, not only untagged ones");
  sp->add_flag("-f,--force", *force, "accepted for docker compatibility: kiln does not ask");
  sp->callback([&ctx, all] { ctx.action = [&ctx, all] { return system_prune(ctx, *all); }; });

  auto iall = std::make_shared<bool>(false), iforce = std::make_shared<bool>(false);
  auto* ip = app.add_subcommand("image-prune", "Remove dangling images (-a: every unused one)")->group("");
  ip->add_flag("-a,--all", *iall, "every image no running container uses, not only untagged ones");
  ip->add_flag("-f,--force", *iforce, "accepted for docker compatibility: kiln does not ask");
  ip->callback([&ctx, iall] { ctx.action = [&ctx, iall] { return image_prune(ctx, *iall); }; });
}

}  // namespace kiln::cli
