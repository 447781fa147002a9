// kiln history: an image's history as docker prints it, newest step first.
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/go_template.h"
#include "common/json.h"
#include "oci/image_store.h"

namespace kiln::cli {

namespace {

/// One row: a history entry with the layer it made, if any.
struct Row {
  const oci::HistoryEntry* entry;
  std::optional<uint64_t> size;  ///< the layer blob's size; 0 for an entry without a layer, none when unknown
};

/// The diff ID of a layer with nothing in it (a tar of its two end blocks): a step that changed nothing.
constexpr const char* kEmptyTarDiffId = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

/// The entries with their layers: each entry that is not an empty_layer takes the next layer in order.
std::vector<Row> rows_of(const oci::Image& img) {
  std::vector<Row> rows;
  size_t layer = 0;
  for (const auto& h : img.config.history) {
    std::optional<uint64_t> size = 0;
    if (!h.empty_layer) {
      if (layer >= img.manifest.layers.size())
        size = std::nullopt;
      else if (layer < img.config.diff_ids.size() && img.config.diff_ids[layer].str() == kEmptyTarDiffId)
        size = 0;  // its blob is a few bytes of compressed zeros; docker shows such a step as 0B
      else
        size = img.manifest.layers[layer].size;
      ++layer;
    }
    rows.push_back({&h, size});
  }
  return rows;
}

/// docker's CREATED BY: tabs and newlines as spaces, cut to 45 characters (the last an ellipsis) unless
/// --no-trunc.
std::string created_by(std::string s, bool trunc) {
  for (char& c : s)
    if (c == '\t' || c == '\n') c = ' ';
  if (!trunc) return s;
  size_t chars = 0, cut = s.size();
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;  // inside a UTF-8 character
    if (++chars == 45) cut = i;                                       // where the 45th character starts
    if (chars > 45) return s.substr(0, cut) + "…";
  }
  return s;
}

Status history(Context& ctx, const std::string& name, bool no_trunc, bool quiet, const std::string& format) {
  auto store = TRY(ctx.store());
  oci::ImageStore is(store);
  auto img = TRY(is.resolve(name));
  auto rows = rows_of(img);
  // docker names the image on the newest row only; the steps below it have no image of their own.
  std::string id = no_trunc ? img.id().str() : img.id().hex().substr(0, 12);
  auto id_of = [&](size_t i) { return i + 1 == rows.size() ? id : std::string("<missing>"); };
  if (format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (size_t i = rows.size(); i-- > 0;) {
      const auto& h = *rows[i].entry;
      out.push_back({{"Id", i + 1 == rows.size() ? img.id().str() : "<missing>"},
                     {"Created", h.created},
                     {"CreatedBy", h.created_by},
                     {"Size", rows[i].size ? nlohmann::json(*rows[i].size) : nlohmann::json(nullptr)},
                     {"Comment", h.comment},
                     {"EmptyLayer", h.empty_layer}});
    }
    std::cout << json_text(out, 2) << "\n";
    return {};
  }
  if (quiet) {
    for (size_t i = rows.size(); i-- > 0;) std::cout << id_of(i) << "\n";
    return {};
  }
  if (!format.empty() && format != "table") {  // a Go template over docker's fields
    std::vector<nlohmann::json> objects;
    for (size_t i = rows.size(); i-- > 0;) {
      const auto& h = *rows[i].entry;
      objects.push_back({{"ID", id_of(i)},
                         {"CreatedSince", human_age(h.created)},
                         {"CreatedAt", h.created},
                         {"CreatedBy", created_by(h.created_by, !no_trunc)},
                         {"Size", rows[i].size ? human_size(*rows[i].size) : "?"},
                         {"Comment", h.comment}});
    }
    return print_formatted(format, objects,
                           {{"ID", "IMAGE"},
                            {"CreatedSince", "CREATED"},
                            {"CreatedAt", "CREATED AT"},
                            {"CreatedBy", "CREATED BY"},
                            {"Size", "SIZE"},
                            {"Comment", "COMMENT"}},
                           std::cout);
  }
  std::vector<std::vector<std::string>> cells{{"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"}};
  for (size_t i = rows.size(); i-- > 0;) {
    const auto& h = *rows[i].entry;
    cells.push_back({id_of(i), human_age(h.created), created_by(h.created_by, !no_trunc),
                     rows[i].size ? human_size(*rows[i].size) : "?", h.comment});
  }
  std::cout << tabwrite(cells);
  return {};
}

}  // namespace

void register_history_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("history", "Show the steps an image was made by, newest first");
  auto name = std::make_shared<std::string>();
  auto no_trunc = std::make_shared<bool>(false), quiet = std::make_shared<bool>(false);
  auto format = std::make_shared<std::string>();
  cmd->add_option("IMAGE", *name, "image reference or ID")->required();
  cmd->add_flag("--no-trunc", *no_trunc, "full IDs and commands");
  cmd->add_flag("-q,--quiet", *quiet, "only image IDs");
  cmd->add_option("--format", *format, "table (default), json, or a Go template ('{{.ID}} {{.CreatedBy}}')");
  cmd->callback([&ctx, name, no_trunc, quiet, format] {
    ctx.action = [&ctx, name, no_trunc, quiet, format] { return history(ctx, *name, *no_trunc, *quiet, *format); };
  });
}

}  // namespace kiln::cli
