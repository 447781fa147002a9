// kiln gc, kiln fsck.
#include <iostream>

#include "cas/gc.h"
#include "cli/command.h"

namespace kiln::cli {

namespace {

Status gc(Context& ctx) {
  auto store = TRY(ctx.store());
  auto rep = TRY(cas::collect_garbage(store));
  std::cout << "Removed " << rep.blobs << " blobs (" << human_size(rep.blob_bytes) << "), " << rep.trees
            << " unpacked layers (" << human_size(rep.tree_bytes) << "), " << rep.temp_files << " leftover temp files\n";
  return {};
}

Status fsck(Context& ctx) {
  auto store = TRY(ctx.store());
  auto problems = TRY(cas::check_store(store));
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
  app.add_subcommand("gc", "Remove blobs and unpacked layers no image references")->callback([&ctx] {
    ctx.action = [&ctx] { return gc(ctx); };
  });
  app.add_subcommand("fsck", "Re-hash every blob and check every reference and unpacked layer")->callback([&ctx] {
    ctx.action = [&ctx] { return fsck(ctx); };
  });
}

}  // namespace kiln::cli
