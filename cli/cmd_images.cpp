// kiln images, inspect, tag, rmi.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "builder/build_lease.h"
#include "builder/cache.h"
#include "cas/gc.h"
#include "cli/command.h"
#include "oci/archive.h"
#include "oci/blob_locations.h"
#include "oci/reference.h"
#include "common/json.h"

namespace kiln::cli {

namespace {

uint64_t image_size(const oci::Image& img) {
  uint64_t s = img.manifest.config.size;
  for (const auto& l : img.manifest.layers) s += l.size;
  return s;
}

std::pair<std::string, std::string> repo_tag(const std::string& ref) {
  if (ref.empty()) return {"<none>", "<none>"};
  auto r = oci::Reference::parse(ref);
  if (!r) return {ref, "<none>"};
  return {r->repository(), r->tag.empty() ? "<none>" : r->tag};
}

Status images(Context& ctx, const std::string& format, bool quiet) {
  auto store = TRY(ctx.store());
  oci::ImageStore is(store);
  auto list = TRY(is.list());
  if (format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& img : list) {
      auto [repo, tag] = repo_tag(img.ref);
      out.push_back({{"Repository", repo},
                     {"Tag", tag},
                     {"Id", img.id().str()},
                     {"Digest", img.manifest_digest.str()},
                     {"Created", img.config.created},
                     {"Size", image_size(img)},
                     {"Layers", img.manifest.layers.size()}});
    }
    std::cout << json_text(out, 2) << "\n";
    return {};
  }
  if (!format.empty() && format != "table")
    return make_error(ErrorCode::invalid_argument, "unknown --format \"" + format + "\": use table or json");
  if (quiet) {
    std::set<std::string> seen;
    for (const auto& img : list)
      if (seen.insert(img.id().hex()).second) std::cout << img.id().hex().substr(0, 12) << "\n";
    return {};
  }
  std::printf("%-40s %-16s %-14s %-16s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
  for (const auto& img : list) {
    auto [repo, tag] = repo_tag(img.ref);
    std::printf("%-40s %-16s %-14s %-16s %s\n", repo.c_str(), tag.c_str(), img.id().hex().substr(0, 12).c_str(),
                human_age(img.config.created).c_str(), human_size(image_size(img)).c_str());
  }
  return {};
}

/// Stored JSON as a value to print; null when it cannot be (a store written before depths were bounded).
nlohmann::json json_or_null(const std::string& bytes) {
  if (!json_depth_within(bytes)) return nullptr;
  return nlohmann::json::parse(bytes, nullptr, false);
}

Status inspect(Context& ctx, const std::vector<std::string>& names) {
  auto store = TRY(ctx.store());
  oci::ImageStore is(store);
  auto entries = TRY(store.list());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& name : names) {
    auto img = TRY(is.resolve(name));
    nlohmann::json tags = nlohmann::json::array();
    for (const auto& e : entries)
      if (e.digest == img.entry.digest && !e.ref.empty()) tags.push_back(e.ref);
    nlohmann::json layers = nlohmann::json::array();
    for (size_t i = 0; i < img.manifest.layers.size(); ++i)
      layers.push_back({{"MediaType", img.manifest.layers[i].media_type},
                        {"Digest", img.manifest.layers[i].digest.str()},
                        {"Size", img.manifest.layers[i].size},
                        {"DiffID", img.config.diff_ids[i].str()}});
    out.push_back({{"Id", img.id().str()},
                   {"Digest", img.manifest_digest.str()},
                   {"RepoTags", tags},
                   {"Created", img.config.created},
                   {"Architecture", img.config.platform.architecture},
                   {"Os", img.config.platform.os},
                   {"Size", image_size(img)},
                   {"ManifestMediaType", img.manifest.media_type},
                   {"Manifest", json_or_null(img.manifest_bytes)},
                   {"Config", json_or_null(img.config_bytes)},
                   {"Layers", layers}});
  }
  std::cout << json_text(out, 2) << "\n";
  return {};
}

Status tag(Context& ctx, const std::string& src, const std::string& dst) {
  auto ref = TRY(oci::Reference::parse(dst));
  auto store = TRY(ctx.store());
  oci::ImageStore is(store);
  auto img = TRY(is.resolve(src));
  if (!ref.digest.empty()) return make_error(ErrorCode::invalid_argument, "cannot tag with a digest reference: " + dst);
  return store.set_tag(ref.str(), img.entry.media_type, cas::BlobInfo{img.entry.digest, img.entry.size});
}

Status rmi(Context& ctx, const std::vector<std::string>& names, bool force) {
  auto store = TRY(ctx.store());
  oci::ImageStore is(store);
  auto running = running_containers_of(store);
  auto building = builder::images_in_running_builds(store);
  for (const auto& name : names) {
    auto img = TRY(is.resolve(name));
    if (!force && std::find(building.begin(), building.end(), img.id().str()) != building.end())
      return make_error(ErrorCode::conflict, "unable to remove " + name +
                                                 ": image is being used by a running build (wait for it, or -f to untag it)");
    // In use: refused, as docker refuses it; with -f only the name goes, and gc keeps what the container
    // runs on until it exits (its state is one of gc's roots).
    for (const auto& c : running)
      if (c.image_id == img.id().str() && !force)
        return make_error(ErrorCode::conflict, "unable to remove " + name + ": image is being used by running container " +
                                                   c.id.substr(0, 12) + " (stop it first, or -f to untag it)");
    if (!img.ref.empty()) {
      TRY(store.remove_tag(img.ref));
      std::cout << "Untagged: " << img.ref << "\n";
      continue;
    }
    // By ID: every entry of that image ID (all its tags, every manifest sharing its config) goes, as docker
    // rmi -f does.
    std::vector<std::string> refs;
    std::set<std::string> doomed;
    for (const auto& e : TRY(store.list())) {
      auto other = is.load(e);
      if (e.digest == img.entry.digest || (other && other->id() == img.id())) {
        refs.push_back(e.ref);
        doomed.insert(e.digest.hex() + "\n" + e.ref);
      }
    }
    if (refs.size() > 1 && !force)
      return make_error(ErrorCode::conflict, "image " + img.id().hex().substr(0, 12) + " has " +
                                                 std::to_string(refs.size()) + " tags: remove them by name or use -f");
    TRY(store.update_index([&](std::vector<cas::IndexEntry>& entries) -> Status {
      std::erase_if(entries, [&](const cas::IndexEntry& e) { return doomed.count(e.digest.hex() + "\n" + e.ref) > 0; });
      return {};
    }));
    for (const auto& r : refs)
      if (!r.empty()) std::cout << "Untagged: " << r << "\n";
    std::cout << "Deleted: " << img.id().str() << "\n";
  }
  // Reclaim space now unless a build or pull is running; then the next kiln gc does it.
  auto roots = gc_roots(store);
  auto rep = cas::collect_garbage(store, roots ? *roots : std::vector<cas::IndexEntry>{}, false);
  if (!rep && rep.error().code != ErrorCode::conflict) return std::move(rep).error();
  if (rep) oci::forget_missing_locations(store);
  return {};
}

}  // namespace

void register_image_commands(CLI::App& app, Context& ctx) {
  auto* images_cmd = app.add_subcommand("images", "List images in the store");
  auto format = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  images_cmd->add_option("--format", *format, "table (default) or json");
  images_cmd->add_flag("-q,--quiet", *quiet, "only image IDs");
  images_cmd->callback(
      [&ctx, format, quiet] { ctx.action = [&ctx, format, quiet] { return images(ctx, *format, *quiet); }; });

  auto* inspect_cmd = app.add_subcommand("inspect", "Show an image's manifest digest, config and layers as JSON");
  auto names = std::make_shared<std::vector<std::string>>();
  inspect_cmd->add_option("IMAGE", *names, "image reference or ID")->required();
  inspect_cmd->callback([&ctx, names] { ctx.action = [&ctx, names] { return inspect(ctx, *names); }; });

  auto* tag_cmd = app.add_subcommand("tag", "Give an image another name");
  auto src = std::make_shared<std::string>(), dst = std::make_shared<std::string>();
  tag_cmd->add_option("SOURCE", *src, "image reference or ID")->required();
  tag_cmd->add_option("TARGET", *dst, "new reference")->required();
  tag_cmd->callback([&ctx, src, dst] { ctx.action = [&ctx, src, dst] { return tag(ctx, *src, *dst); }; });

  auto* rmi_cmd = app.add_subcommand("rmi", "Remove images (untag, then reclaim unreferenced blobs)");
  auto rm_names = std::make_shared<std::vector<std::string>>();
  auto force = std::make_shared<bool>(false);
  rmi_cmd->add_option("IMAGE", *rm_names, "image reference or ID")->required();
  rmi_cmd->add_flag("-f,--force", *force, "remove every tag of an image given by ID");
  rmi_cmd->callback(
      [&ctx, rm_names, force] { ctx.action = [&ctx, rm_names, force] { return rmi(ctx, *rm_names, *force); }; });
}

}  // namespace kiln::cli
