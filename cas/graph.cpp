// Reachability over manifest/index/config JSON, independent of media type spelling.
#include "cas/graph.h"
#include "common/json.h"

#include <nlohmann/json.hpp>

namespace kiln::cas {

namespace {

struct Walker {
  const Store& store;
  Reachable out;

  void visit(const Digest& d, uint64_t size, const std::string& where, int kind_hint) {
    bool seen = out.blobs.count(d) != 0;
    out.blobs.emplace(d, size);
    if (seen) return;
    if (!store.has_blob(d)) {
      out.problems.push_back(where + ": blob " + d.str() + " is missing");
      return;
    }
    auto actual = store.blob_size(d);
    if (actual && *actual != size)
      out.problems.push_back(where + ": blob " + d.str() + " is " + std::to_string(*actual) +
                             " bytes, descriptor says " + std::to_string(size));
    if (kind_hint == 0) return;  // a layer: opaque bytes
    auto bytes = store.read_blob(d);
    if (!bytes) {
      out.problems.push_back(where + ": " + bytes.error().what());
      return;
    }
    nlohmann::json j;
    try {
      j = parse_json(*bytes);
    } catch (const nlohmann::json::exception& ex) {
      out.problems.push_back(where + ": blob " + d.str() + " is not valid JSON: " + ex.what());
      return;
    }
    if (!j.is_object()) {
      out.problems.push_back(where + ": blob " + d.str() + " is not a JSON object");
      return;
    }
    if (kind_hint == 2) {  // config: note its layer trees
      if (j.contains("rootfs") && j["rootfs"].is_object())
        for (const auto& id : j["rootfs"].value("diff_ids", nlohmann::json::array()))
          if (id.is_string())
            if (auto dd = Digest::parse(id.get<std::string>())) out.trees.insert(*dd);
      return;
    }
    child_list(j, "manifests", d, 1);
    if (j.contains("config") && j["config"].is_object()) child(j["config"], d, 2);
    child_list(j, "layers", d, 0);
  }

  void child_list(const nlohmann::json& j, const char* key, const Digest& parent, int kind) {
    if (!j.contains(key) || !j[key].is_array()) return;
    for (const auto& c : j[key]) child(c, parent, kind);
  }

  void child(const nlohmann::json& c, const Digest& parent, int kind) {
    if (!c.is_object() || !c.contains("digest") || !c["digest"].is_string()) {
      out.problems.push_back("manifest " + parent.str() + ": a descriptor has no digest");
      return;
    }
    auto d = Digest::parse(c["digest"].get<std::string>());
    if (!d) {
      out.problems.push_back("manifest " + parent.str() + ": " + d.error().what());
      return;
    }
    uint64_t size = c.contains("size") && c["size"].is_number_unsigned() ? c["size"].get<uint64_t>() : 0;
    visit(*d, size, "manifest " + parent.str(), kind);
  }
};

}  // namespace

Reachable walk_reachable(const Store& store, const std::vector<IndexEntry>& roots) {
  Walker w{store, {}};
  for (const auto& e : roots) {
    // A root may be a bare layer (the build cache keeps those): its bytes are not JSON.
    bool layer =
        e.media_type.find(".layer.") != std::string::npos || e.media_type.find(".rootfs.") != std::string::npos;
    w.visit(e.digest, e.size, e.ref.empty() ? "untagged " + e.digest.str() : e.ref, layer ? 0 : 1);
  }
  return std::move(w.out);
}

}  // namespace kiln::cas
