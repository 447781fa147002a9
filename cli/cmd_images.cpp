// kiln images, inspect, tag, rmi.
#include <fnmatch.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "builder/build_lease.h"
#include "builder/cache.h"
#include "cas/gc.h"
#include "cli/command.h"
#include "cli/go_template.h"
#include "common/json.h"
#include "oci/archive.h"
#include "oci/blob_locations.h"
#include "oci/reference.h"

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
  return {r->familiar_repository(), r->tag.empty() ? "<none>" : r->tag};
}

/// What `kiln images` lists: the REPOSITORY[:TAG] argument and --filter (dangling, label, reference), as docker
/// reads them; patterns are shell globs.
struct ImageFilter {
  std::string repository, tag;  ///< the argument
  std::optional<bool> dangling;
  std::vector<std::pair<std::string, std::optional<std::string>>> labels;
  std::vector<std::string> references;

  static Result<ImageFilter> parse(const std::string& arg, const std::vector<std::string>& filters) {
    ImageFilter f;
    if (!arg.empty()) {
      auto colon = arg.rfind(':');
      bool has_tag = colon != std::string::npos && arg.find('/', colon) == std::string::npos;
      f.repository = has_tag ? arg.substr(0, colon) : arg;
      f.tag = has_tag ? arg.substr(colon + 1) : "";
    }
    for (const auto& x : filters) {
      auto eq = x.find('=');
      std::string key = x.substr(0, eq), value = eq == std::string::npos ? "" : x.substr(eq + 1);
      if (key == "dangling" && (value == "true" || value == "false")) {
        f.dangling = value == "true";
      } else if (key == "label" && !value.empty()) {
        auto veq = value.find('=');
        f.labels.push_back(
            {value.substr(0, veq), veq == std::string::npos ? std::nullopt : std::optional(value.substr(veq + 1))});
      } else if (key == "reference" && !value.empty()) {
        f.references.push_back(value);
      } else {
        return make_error(
            ErrorCode::invalid_argument,
            "invalid --filter \"" + x + "\": use dangling=true|false, label=KEY[=VALUE] or reference=PATTERN");
      }
    }
    return f;
  }

  static bool glob(const std::string& pattern, const std::string& s) {
    return ::fnmatch(pattern.c_str(), s.c_str(), FNM_PATHNAME) == 0;
  }

  bool matches(const oci::Image& img) const {
    auto [repo, tag] = repo_tag(img.ref);
    if (!repository.empty()) {
      auto given = oci::Reference::parse(repository + ":x");  // "web" and "docker.io/library/web" are one
      std::string want = given ? given->familiar_repository() : repository;
      if (img.ref.empty() || !glob(want, repo) || (!this->tag.empty() && !glob(this->tag, tag))) return false;
    }
    if (dangling && *dangling != img.ref.empty()) return false;
    for (const auto& [k, v] : labels) {
      auto it = img.config.config.labels.find(k);
      if (it == img.config.config.labels.end() || (v && it->second != *v)) return false;
    }
    for (const auto& pattern : references) {
      if (img.ref.empty()) return false;
      bool has_tag =
          pattern.rfind(':') != std::string::npos && pattern.find('/', pattern.rfind(':')) == std::string::npos;
      if (!glob(pattern, has_tag ? repo + ":" + tag : repo)) return false;
    }
    return true;
  }
};

struct ImagesOptions {
  std::string format, reference;
  std::vector<std::string> filters;
  bool quiet = false, digests = false, no_trunc = false, all = false;
};

Status images(Context& ctx, const ImagesOptions& o) {
  auto store = TRY(ctx.store());
  oci::ImageStore is(store);
  auto filter = TRY(ImageFilter::parse(o.reference, o.filters));
  auto all = TRY(is.list());
  std::vector<oci::Image> list;
  for (auto& img : all)
    if (filter.matches(img)) list.push_back(std::move(img));
  if (o.format == "json") {
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
  auto id_of = [&](const oci::Image& img) { return o.no_trunc ? img.id().str() : img.id().hex().substr(0, 12); };
  if (o.quiet) {
    std::set<std::string> seen;
    for (const auto& img : list)
      if (seen.insert(img.id().hex()).second) std::cout << id_of(img) << "\n";
    return {};
  }
  std::string format = o.format;
  if (format.empty() || format == "table")  // docker's columns, DIGEST with --digests
    format = std::string("table {{.Repository}}\\t{{.Tag}}\\t") + (o.digests ? "{{.Digest}}\\t" : "") +
             "{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}";
  std::vector<nlohmann::json> objects;
  for (const auto& img : list) {
    auto [repo, tag] = repo_tag(img.ref);
    objects.push_back({{"ID", id_of(img)},
                       {"Repository", repo},
                       {"Tag", tag},
                       {"Digest", img.manifest_digest.str()},
                       {"CreatedSince", human_age(img.config.created)},
                       {"CreatedAt", img.config.created},
                       {"Size", human_size(image_size(img))},
                       {"Labels", img.config.config.labels}});
  }
  return print_formatted(format, objects,
                         {{"ID", "IMAGE ID"},
                          {"Repository", "REPOSITORY"},
                          {"Tag", "TAG"},
                          {"Digest", "DIGEST"},
                          {"CreatedSince", "CREATED"},
                          {"CreatedAt", "CREATED AT"},
                          {"Size", "SIZE"},
                          {"Labels", "LABELS"}},
                         std::cout);
}

/// Stored JSON as a value to print; null when it cannot be (a store written before depths were bounded).
nlohmann::json json_or_null(const std::string& bytes) {
  if (!json_depth_within(bytes)) return nullptr;
  return nlohmann::json::parse(bytes, nullptr, false);
}

/// docker's image inspect fields (Id, RepoTags, RepoDigests, Created, Author, Config as the run config,
/// Architecture, Os, Size, RootFS), then kiln's: the manifest digest and media type, the manifest, the whole
/// image config (ImageConfig: history, rootfs…) and the layers with their digests.
Status inspect(Context& ctx, const std::vector<std::string>& names, const std::string& format) {
  auto store = TRY(ctx.store());
  oci::ImageStore is(store);
  auto entries = TRY(store.list());
  std::vector<nlohmann::json> objects;
  for (const auto& name : names) {
    auto img = TRY(is.resolve(name));
    nlohmann::json tags = nlohmann::json::array(), repo_digests = nlohmann::json::array();
    for (const auto& e : entries)
      if (e.digest == img.entry.digest && !e.ref.empty()) {
        auto r = oci::Reference::parse(e.ref);  // as docker shows them: web:1, not docker.io/library/web:1
        tags.push_back(r ? r->familiar() : e.ref);
        if (r) repo_digests.push_back(r->familiar_repository() + "@" + img.manifest_digest.str());
      }
    nlohmann::json layers = nlohmann::json::array(), diff_ids = nlohmann::json::array();
    for (size_t i = 0; i < img.manifest.layers.size(); ++i) {
      layers.push_back({{"MediaType", img.manifest.layers[i].media_type},
                        {"Digest", img.manifest.layers[i].digest.str()},
                        {"Size", img.manifest.layers[i].size},
                        {"DiffID", img.config.diff_ids[i].str()}});
      diff_ids.push_back(img.config.diff_ids[i].str());
    }
    nlohmann::json config = json_or_null(img.config_bytes);
    nlohmann::json run_config = config.is_object() && config.contains("config") ? config["config"] : nlohmann::json();
    objects.push_back({{"Id", img.id().str()},
                       {"RepoTags", tags},
                       {"RepoDigests", repo_digests},
                       {"Created", img.config.created},
                       {"Author", img.config.author},
                       {"Config", run_config},
                       {"Architecture", img.config.platform.architecture},
                       {"Os", img.config.platform.os},
                       {"Size", image_size(img)},
                       {"RootFS", {{"Type", "layers"}, {"Layers", diff_ids}}},
                       {"Digest", img.manifest_digest.str()},
                       {"ManifestMediaType", img.manifest.media_type},
                       {"Manifest", json_or_null(img.manifest_bytes)},
                       {"ImageConfig", config},
                       {"Layers", layers}});
  }
  if (!format.empty() && format != "json") return print_formatted(format, objects, nlohmann::json::object(), std::cout);
  std::cout << json_text(nlohmann::json(objects), 2) << "\n";
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
      return make_error(
          ErrorCode::conflict,
          "unable to remove " + name + ": image is being used by a running build (wait for it, or -f to untag it)");
    // In use: refused, as docker refuses it; with -f only the name goes, and gc keeps what the container
    // runs on until it exits (its state is one of gc's roots).
    for (const auto& c : running)
      if (c.image_id == img.id().str() && !force)
        return make_error(ErrorCode::conflict, "unable to remove " + name +
                                                   ": image is being used by running container " + c.id.substr(0, 12) +
                                                   " (stop it first, or -f to untag it)");
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
  auto io = std::make_shared<ImagesOptions>();
  images_cmd->add_option("REPOSITORY[:TAG]", io->reference, "only this repository (and tag); globs allowed");
  images_cmd->add_option("--format", io->format,
                         "table (default), json, or a Go template ('{{.Repository}}:{{.Tag}}')");
  images_cmd->add_option("-f,--filter", io->filters, "dangling=true|false, label=KEY[=VALUE], reference=PATTERN");
  images_cmd->add_flag("-q,--quiet", io->quiet, "only image IDs");
  images_cmd->add_flag("--digests", io->digests, "show the manifest digest");
  images_cmd->add_flag("--no-trunc", io->no_trunc, "full image IDs");
  images_cmd->add_flag("-a,--all", io->all, "accepted for docker compatibility: kiln keeps no intermediate images");
  images_cmd->callback([&ctx, io] { ctx.action = [&ctx, io] { return images(ctx, *io); }; });

  auto* inspect_cmd = app.add_subcommand("inspect", "Show an image's manifest digest, config and layers as JSON");
  auto names = std::make_shared<std::vector<std::string>>();
  auto iformat = std::make_shared<std::string>();
  inspect_cmd->add_option("IMAGE", *names, "image reference or ID")->required();
  inspect_cmd->add_option("-f,--format", *iformat, "a Go template over each image ('{{.Config.Cmd}}'), or json");
  inspect_cmd->callback(
      [&ctx, names, iformat] { ctx.action = [&ctx, names, iformat] { return inspect(ctx, *names, *iformat); }; });

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
