// Images in the store.
#include "oci/image_store.h"

#include <optional>

#include "oci/extract.h"
#include "oci/media_types.h"
#include "oci/reference.h"
#include "oci/registries_conf.h"

namespace kiln::oci {

Result<Image> ImageStore::load(const cas::IndexEntry& entry) {
  Image img;
  img.ref = entry.ref;
  img.entry = entry;
  std::string what = entry.ref.empty() ? entry.digest.str() : entry.ref;
  std::string bytes = TRY_CTX(m_store.read_blob(entry.digest), what);
  std::string mt = TRY_CTX(sniff_media_type(bytes), what);
  cas::Digest mdigest = entry.digest;
  if (media::is_index(mt)) {
    Index ix = TRY_CTX(parse_index(bytes), what);
    const Descriptor* pick = nullptr;
    for (const auto& m : ix.manifests)
      if (!m.platform || (m.platform->os == "linux" && m.platform->architecture == "amd64")) {
        pick = &m;
        break;
      }
    if (!pick) return make_error(ErrorCode::not_found, what + ": the image index has no linux/amd64 manifest");
    mdigest = pick->digest;
    bytes = TRY_CTX(m_store.read_blob(mdigest), what);
    mt = TRY_CTX(sniff_media_type(bytes), what);
  }
  if (!media::is_manifest(mt))
    return make_error(ErrorCode::unsupported, what + ": unsupported manifest media type " + mt);
  img.manifest_digest = mdigest;
  img.manifest_bytes = std::move(bytes);
  img.manifest = TRY_CTX(parse_manifest(img.manifest_bytes), what);
  img.config_bytes = TRY_CTX(m_store.read_blob(img.manifest.config.digest), what);
  img.config = TRY_CTX(parse_config(img.config_bytes), what);
  if (img.config.diff_ids.size() != img.manifest.layers.size())
    return make_error(ErrorCode::corrupt, what + ": config lists " + std::to_string(img.config.diff_ids.size()) +
                                              " diff_ids for " + std::to_string(img.manifest.layers.size()) +
                                              " layers");
  for (const auto& l : img.manifest.layers)
    if (!media::is_layer(l.media_type))
      return make_error(ErrorCode::unsupported, what + ": unsupported layer media type " + l.media_type);
  return img;
}

Result<std::vector<Image>> ImageStore::list() {
  std::vector<Image> out;
  for (const auto& e : TRY(m_store.list())) out.push_back(TRY(load(e)));
  return out;
}

Result<Image> ImageStore::resolve(const std::string& name) {
  auto entries = TRY(m_store.list());
  if (looks_like_id(name)) {
    // An ID names a config (docker's image ID) or a manifest. Several manifests may share one config
    // (the same image compressed two ways): that is one image ID, not an ambiguity.
    std::string hex = name.rfind("sha256:", 0) == 0 ? name.substr(7) : name;
    std::optional<Image> found;
    for (const auto& e : entries) {
      auto img = load(e);
      if (!img) continue;
      bool by_id = img->id().hex().rfind(hex, 0) == 0;
      bool by_manifest = e.digest.hex().rfind(hex, 0) == 0 || img->manifest_digest.hex().rfind(hex, 0) == 0;
      if (!by_id && !by_manifest) continue;
      if (found) {
        bool same = by_id ? found->id() == img->id() : found->manifest_digest == img->manifest_digest;
        if (!same)
          return make_error(ErrorCode::invalid_argument, "image ID prefix " + name + " is ambiguous: use more digits");
        continue;
      }
      found = std::move(*img);
    }
    if (found) {
      found->ref.clear();
      return *found;
    }
  }
  auto ref = Reference::parse(name);
  if (!ref) return std::move(ref).error();
  std::string want = ref->str();
  for (const auto& e : entries)
    if (e.ref == want) return load(e);
  // A short name, with unqualified-search-registries in registries.conf, names the first of its references at
  // those registries that the store has (podman's rule), before docker.io's.
  if (auto conf = RegistriesConf::load(); conf && !conf->search.empty())
    if (auto candidates = name_candidates(*conf, name); candidates && candidates->front().str() != want)
      for (const auto& c : *candidates)
        for (const auto& e : entries)
          if (e.ref == c.str()) return load(e);
  return make_error(ErrorCode::not_found, "no such image: " + name + " (kiln images lists what the store has)");
}

Result<cas::BlobInfo> ImageStore::tag_manifest(const std::string& bytes, const std::vector<std::string>& refs) {
  auto blob = TRY(m_store.put_blob(bytes));
  if (refs.empty()) TRY(m_store.set_tag("", media::oci_manifest, blob));
  for (const auto& r : refs) TRY(m_store.set_tag(r, media::oci_manifest, blob));
  return blob;
}

Result<cas::BlobInfo> ImageStore::commit_raw(const std::string& config_bytes, const std::vector<Descriptor>& layers,
                                             const std::vector<std::string>& refs) {
  auto cblob = TRY(m_store.put_blob(config_bytes));
  Manifest m;
  m.media_type = media::oci_manifest;
  m.config = Descriptor{media::oci_config, cblob.digest, cblob.size, {}, std::nullopt};
  m.layers = layers;
  return tag_manifest(to_json(m), refs);
}

Result<cas::BlobInfo> ImageStore::commit(const ImageConfig& config, const std::vector<StoredLayer>& layers,
                                         const std::vector<std::string>& refs) {
  std::vector<Descriptor> descs;
  for (const auto& l : layers) descs.push_back(Descriptor{l.media_type, l.blob.digest, l.blob.size, {}, std::nullopt});
  return commit_raw(to_json(config), descs, refs);
}

Result<std::vector<std::string>> ImageStore::layer_roots(const Image& img) {
  std::vector<std::string> roots;
  for (size_t i = 0; i < img.manifest.layers.size(); ++i) {
    const Descriptor& layer = img.manifest.layers[i];
    const cas::Digest& diff_id = img.config.diff_ids[i];
    auto root = m_trees.ensure(diff_id, [&](const std::string& dir) -> Result<cas::TreeInfo> {
      UniqueFd fd = TRY(m_store.open_blob(layer.digest));
      ExtractOptions opts{Whiteouts::overlay, "layer " + layer.digest.str(), layer.digest, diff_id};
      TRY(extract_tar(fd.get(), dir, opts));
      return cas::LayerTrees::measure(dir);
    });
    if (!root) return std::move(root).error();
    roots.push_back(*root);
  }
  return roots;
}

Status ImageStore::flatten(const Image& img, const std::string& dest) {
  for (size_t i = 0; i < img.manifest.layers.size(); ++i) {
    const Descriptor& layer = img.manifest.layers[i];
    UniqueFd fd = TRY(m_store.open_blob(layer.digest));
    ExtractOptions opts{Whiteouts::apply, "layer " + layer.digest.str(), layer.digest, img.config.diff_ids[i]};
    TRY(extract_tar(fd.get(), dest, opts));
  }
  return {};
}

}  // namespace kiln::oci
