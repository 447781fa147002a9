// kiln gc, kiln fsck.
#include <iostream>

#include "builder/cache.h"
#include "cas/gc.h"
#include "cli/command.h"
#include "oci/blob_locations.h"
#include "runtime/seccomp_cache.h"
#include "runtime/state.h"

namespace kiln::cli {

namespace {

Status gc(Context& ctx, bool drop_cache) {
  auto store = TRY(ctx.store());
  builder::BuildCache cache(store);
  if (drop_cache) {
    size_t n = TRY(cache.prune());
    std::cout << "Dropped " << n << " build cache records\n";
  }
  auto rep = TRY(cas::collect_garbage(store, TRY(gc_roots(store))));
  oci::forget_missing_locations(store);
  runtime::prune_seccomp_cache(runtime::seccomp_cache_dir(store.root()));
  // Containers' cgroups that lost their state (a kiln killed at the wrong moment, or an older kiln).
  size_t cgroups = runtime::remove_orphan_cgroups();
  std::cout << "Removed " << rep.blobs << " blobs (" << human_size(rep.blob_bytes) << "), " << rep.trees
            << " unpacked layers (" << human_size(rep.tree_bytes) << "), " << rep.temp_files << " leftover temp files, "
            << cgroups << " leftover cgroups\n";
  return {};
}

Status fsck(Context& ctx) {
  auto store = TRY(ctx.store());
  auto problems = TRY(cas::check_store(store, TRY(gc_roots(store))));
  for (const auto& p : problems) std::cout << p << "\n";
  if (!problems.empty()) {
    ctx.exit_code = 1;
    std::cerr << "kiln: fsck found " << problems.size() << " problem(s) in " << store.root()
              << "; kiln rmi the affected images and import or pull them again\n";
  } else {
    std::cout << "store " << store.root() << " is clean\n";
  }
  return {};
}

}  // namespace

void register_store_commands(CLI::App& app, Context& ctx) {
  auto drop_cache = std::make_shared<bool>(false);
  auto* gc_cmd =
      app.add_subcommand("gc", "Remove blobs and unpacked layers no image (or build cache entry) references");
  gc_cmd->add_flag("--cache", *drop_cache, "also drop the build cache");
  gc_cmd->callback([&ctx, drop_cache] { ctx.action = [&ctx, drop_cache] { return gc(ctx, *drop_cache); }; });
  auto* builder_cmd = app.add_subcommand("builder", "Manage the build cache");
  builder_cmd->require_subcommand(1);
  builder_cmd->add_subcommand("prune", "Drop the build cache and reclaim its layers (same as kiln gc --cache)")
      ->callback([&ctx] { ctx.action = [&ctx] { return gc(ctx, true); }; });
  app.add_subcommand("fsck", "Re-hash every blob and check every reference and unpacked layer")->callback([&ctx] {
    ctx.action = [&ctx] { return fsck(ctx); };
  });
}

}  // namespace kiln::cli
