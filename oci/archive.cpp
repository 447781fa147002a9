// oci-archive and docker-archive, read and written with libarchive.
#include "oci/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "oci/compress.h"
#include "oci/media_types.h"
#include "oci/reference.h"
#include "common/json.h"
#include "oci/tar_check.h"

namespace kiln::oci {

using nlohmann::json;

std::string familiar_name(const std::string& full_ref) {
  std::string s = full_ref;
  if (s.rfind("docker.io/", 0) == 0) {
    s = s.substr(10);
    if (s.rfind("library/", 0) == 0) s = s.substr(8);
  }
  return s;
}

namespace {

struct Ingested {
  cas::BlobInfo blob;
  media::Compression compression = media::Compression::none;
};

using ArchivePtr = std::unique_ptr<struct archive, int (*)(struct archive*)>;

std::string clean(std::string p) {
  while (p.rfind("./", 0) == 0) p = p.substr(2);
  while (!p.empty() && p[0] == '/') p = p.substr(1);
  return p;
}

/// Name for an image of an OCI index entry: containerd's full name, else ref.name (a bare tag gets localhost/<stem>).
std::string name_for(const std::map<std::string, std::string>& ann, const std::string& stem) {
  if (auto it = ann.find("io.containerd.image.name"); it != ann.end()) {
    if (auto r = Reference::parse(it->second)) return r->str();
  }
  auto it = ann.find("org.opencontainers.image.ref.name");
  if (it == ann.end() || it->second.empty()) return "";
  const std::string& v = it->second;
  if (v.find('/') != std::string::npos || v.find(':') != std::string::npos)
    if (auto r = Reference::parse(v)) return r->str();
  if (auto r = Reference::parse("localhost/" + stem + ":" + v)) return r->str();
  return "";
}

Result<std::vector<std::string>> load_oci(ImageStore& images, const std::string& index_bytes, const std::string& stem,
                                          const std::string& label) {
  Index ix = TRY_CTX(parse_index(index_bytes), label + ": index.json");
  std::vector<std::string> loaded;
  for (const auto& d : ix.manifests) {
    if (!images.store().has_blob(d.digest))
      return make_error(ErrorCode::corrupt,
                        label + ": index.json names " + d.digest.str() + ", which the archive lacks");
    std::string name = name_for(d.annotations, stem);
    std::string mt = d.media_type.empty() ? media::oci_manifest : d.media_type;
    cas::BlobInfo info{d.digest, d.size};
    // Check the image is whole before tagging it.
    cas::IndexEntry probe{mt, d.digest, d.size, name};
    auto img = images.load(probe);
    if (!img) return std::move(img).error().context(label);
    for (const auto& l : img->manifest.layers)
      if (!images.store().has_blob(l.digest))
        return make_error(ErrorCode::corrupt, label + ": layer " + l.digest.str() + " is missing from the archive");
    TRY(images.store().set_tag(name, mt, info));
    loaded.push_back(name.empty() ? img->id().str() : name);
  }
  return loaded;
}

Result<std::vector<std::string>> load_docker(ImageStore& images, const std::string& manifest_bytes,
                                             const std::map<std::string, std::string>& small,
                                             const std::map<std::string, Ingested>& blobs, const std::string& label) {
  std::vector<std::string> loaded;
  try {
    json items = parse_json(manifest_bytes);
    for (const auto& item : items) {
      std::string cpath = clean(item.at("Config").get<std::string>());
      std::string config_bytes;
      if (auto it = small.find(cpath); it != small.end())
        config_bytes = it->second;
      else if (auto b = blobs.find(cpath); b != blobs.end())
        config_bytes = TRY(images.store().read_blob(b->second.blob.digest));
      else
        return make_error(ErrorCode::corrupt, label + ": config " + cpath + " is missing from the archive");
      ImageConfig cfg = TRY_CTX(parse_config(config_bytes), label + ": " + cpath);
      std::vector<Descriptor> layers;
      const auto& lpaths = item.at("Layers");
      if (lpaths.size() != cfg.diff_ids.size())
        return make_error(ErrorCode::corrupt, label + ": " + std::to_string(lpaths.size()) + " layers but " +
                                                  std::to_string(cfg.diff_ids.size()) + " diff_ids in " + cpath);
      for (size_t i = 0; i < lpaths.size(); ++i) {
        std::string lp = clean(lpaths[i].get<std::string>());
        auto b = blobs.find(lp);
        if (b == blobs.end())
          return make_error(ErrorCode::corrupt, label + ": layer " + lp + " is missing from the archive");
        if (b->second.compression == media::Compression::none && b->second.blob.digest != cfg.diff_ids[i])
          return make_error(ErrorCode::corrupt, label + ": layer " + lp + " hashes to " + b->second.blob.digest.str() +
                                                    " but the config says " + cfg.diff_ids[i].str());
        layers.push_back(Descriptor{media::oci_layer_type(b->second.compression),
                                    b->second.blob.digest,
                                    b->second.blob.size,
                                    {},
                                    std::nullopt});
      }
      std::vector<std::string> refs;
      if (item.contains("RepoTags") && item["RepoTags"].is_array())
        for (const auto& t : item["RepoTags"]) {
          auto r = Reference::parse(t.get<std::string>());
          if (!r) return std::move(r).error().context(label);
          refs.push_back(r->str());
        }
      TRY(images.commit_raw(config_bytes, layers, refs));
      if (refs.empty()) loaded.push_back(cas::sha256_of(config_bytes).str());
      loaded.insert(loaded.end(), refs.begin(), refs.end());
    }
  } catch (const json::exception& ex) {
    return make_error(ErrorCode::corrupt, label + ": manifest.json is malformed: " + ex.what());
  }
  return loaded;
}

}  // namespace

Result<std::vector<std::string>> load_archive(ImageStore& images, int fd, const std::string& label) {
  ArchivePtr a(archive_read_new(), archive_read_free);
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_filter_none(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_fd(a.get(), fd, 1 << 17) != ARCHIVE_OK)
    return make_error(ErrorCode::corrupt, label + ": not a tar archive: " + archive_error_text(a.get()));
  std::map<std::string, std::string> small;
  std::map<std::string, Ingested> blobs;
  std::vector<char> buf(1 << 17);
  for (;;) {
    struct archive_entry* e;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return make_error(ErrorCode::corrupt, label + ": " + archive_error_text(a.get()));
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    std::string path = clean(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
    bool in_blobs = path.rfind("blobs/sha256/", 0) == 0;
    int64_t size = archive_entry_size(e);
    bool metadata = path.ends_with(".json") || path == "repositories" || path == "oci-layout";
    if (!in_blobs && metadata && path.find('/') == std::string::npos && size <= (16 << 20)) {
      std::string bytes;
      for (;;) {
        la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
        if (n < 0) return make_error(ErrorCode::corrupt, label + ": " + path + ": " + archive_error_text(a.get()));
        if (n == 0) break;
        bytes.append(buf.data(), static_cast<size_t>(n));
      }
      small[path] = std::move(bytes);
      continue;
    }
    std::optional<cas::Digest> expected;
    if (in_blobs) {
      auto d = cas::Digest::parse("sha256:" + path.substr(13));
      if (!d) return make_error(ErrorCode::corrupt, label + ": " + path + " is not named by a sha256 digest");
      expected = *d;
    }
    auto w = TRY(images.store().new_blob());
    unsigned char head[4] = {0, 0, 0, 0};
    size_t head_len = 0;
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
      if (n < 0) return make_error(ErrorCode::corrupt, label + ": " + path + ": " + archive_error_text(a.get()));
      if (n == 0) break;
      if (head_len < 4) {
        size_t take = std::min<size_t>(4 - head_len, static_cast<size_t>(n));
        std::memcpy(head + head_len, buf.data(), take);
        head_len += take;
      }
      TRY(w.write(buf.data(), static_cast<size_t>(n)));
    }
    auto info = TRY_CTX(w.commit(expected, size), label + ": " + path);
    blobs[path] = Ingested{info, sniff_compression(head, head_len)};
  }
  std::string stem = label;
  if (auto s = stem.rfind('/'); s != std::string::npos) stem = stem.substr(s + 1);
  stem = stem.substr(0, stem.find('.'));
  std::string lowered;
  for (char c : stem)
    lowered += (std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '-');
  while (!lowered.empty() && !std::isalnum(static_cast<unsigned char>(lowered.back()))) lowered.pop_back();
  while (!lowered.empty() && !std::isalnum(static_cast<unsigned char>(lowered.front()))) lowered.erase(0, 1);
  if (lowered.empty()) lowered = "loaded";
  if (auto m = small.find("manifest.json"); m != small.end())
    return load_docker(images, m->second, small, blobs, label);
  if (auto ix = small.find("index.json"); ix != small.end()) return load_oci(images, ix->second, lowered, label);
  return make_error(ErrorCode::corrupt,
                    label + ": neither an oci-archive (index.json) nor a docker-archive (manifest.json)");
}

namespace {

struct Writer {
  struct archive* a;
  Status add_bytes(const std::string& path, const std::string& bytes) {
    TRY(header(path, static_cast<int64_t>(bytes.size())));
    if (!bytes.empty() && archive_write_data(a, bytes.data(), bytes.size()) != static_cast<la_ssize_t>(bytes.size()))
      return err(path);
    return {};
  }
  Status add_fd(const std::string& path, int src, int64_t size) {
    TRY(header(path, size));
    std::vector<char> buf(1 << 17);
    int64_t left = size;
    while (left > 0) {
      ssize_t n =
          ::read(src, buf.data(), static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(buf.size()))));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return sys_error("read for " + path);
      if (archive_write_data(a, buf.data(), static_cast<size_t>(n)) != n) return err(path);
      left -= n;
    }
    return {};
  }
  Status header(const std::string& path, int64_t size) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), path.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_size(e.get(), size);
    archive_entry_set_mtime(e.get(), 0, 0);
    if (archive_write_header(a, e.get()) != ARCHIVE_OK) return err(path);
    return {};
  }
  Status dir(const std::string& path) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), path.c_str());
    archive_entry_set_filetype(e.get(), AE_IFDIR);
    archive_entry_set_perm(e.get(), 0755);
    archive_entry_set_mtime(e.get(), 0, 0);
    if (archive_write_header(a, e.get()) != ARCHIVE_OK) return err(path);
    return {};
  }
  Error err(const std::string& path) {
    return make_error(ErrorCode::io, "writing archive entry " + path + ": " + archive_error_text(a));
  }
};

Status add_blob(Writer& w, cas::Store& store, const cas::Digest& d, const std::string& path) {
  UniqueFd fd = TRY(store.open_blob(d));
  uint64_t size = TRY(store.blob_size(d));
  return w.add_fd(path, fd.get(), static_cast<int64_t>(size));
}

Status save_oci(Writer& w, ImageStore& images, const std::vector<Image>& list) {
  TRY(w.add_bytes("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"));
  Index ix;
  ix.media_type = media::oci_index;
  std::map<cas::Digest, bool> blobs;
  for (const auto& img : list) {
    Descriptor d{img.entry.media_type, img.entry.digest, img.entry.size, {}, std::nullopt};
    if (!img.ref.empty()) {
      auto r = Reference::parse(img.ref);
      d.annotations["io.containerd.image.name"] = img.ref;
      if (r && !r->tag.empty()) d.annotations["org.opencontainers.image.ref.name"] = r->tag;
    }
    ix.manifests.push_back(d);
    blobs[img.entry.digest] = true;
    blobs[img.manifest_digest] = true;
    blobs[img.manifest.config.digest] = true;
    for (const auto& l : img.manifest.layers) blobs[l.digest] = true;
  }
  TRY(w.add_bytes("index.json", to_json(ix)));
  TRY(w.dir("blobs/"));
  TRY(w.dir("blobs/sha256/"));
  for (const auto& [d, _] : blobs) TRY(add_blob(w, images.store(), d, "blobs/sha256/" + d.hex()));
  return {};
}

/// Decompress a layer blob into a temp file so its size is known for the tar header.
Status add_layer_tar(Writer& w, ImageStore& images, const Descriptor& layer, const std::string& path) {
  media::Compression c = media::layer_compression(layer.media_type);
  if (c == media::Compression::none) return add_blob(w, images.store(), layer.digest, path);
  UniqueFd src = TRY(images.store().open_blob(layer.digest));
  std::string tmpl = images.store().tmp_dir() + "/save-XXXXXX";
  int raw = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (raw < 0) return sys_error("create temp file");
  ::unlink(tmpl.c_str());
  UniqueFd tmp(raw);
  int sfd = src.get();
  auto dec = Decompressor::create(c, [sfd](void* buf, size_t len) -> Result<size_t> {
    ssize_t n = ::read(sfd, buf, len);
    if (n < 0) return sys_error("read layer");
    return static_cast<size_t>(n);
  });
  std::vector<char> buf(1 << 17);
  int64_t total = 0;
  for (;;) {
    size_t n = TRY_CTX(dec->read(buf.data(), buf.size()), "layer " + layer.digest.str());
    if (n == 0) break;
    TRY(write_all(tmp.get(), buf.data(), n));
    total += static_cast<int64_t>(n);
  }
  ::lseek(tmp.get(), 0, SEEK_SET);
  return w.add_fd(path, tmp.get(), total);
}

Status save_docker(Writer& w, ImageStore& images, const std::vector<Image>& list) {
  json manifest = json::array();
  std::map<std::string, bool> written;
  for (const auto& img : list) {
    std::string cfg = img.id().hex() + ".json";
    if (!written[cfg]) TRY(w.add_bytes(cfg, img.config_bytes));
    written[cfg] = true;
    json layers = json::array();
    for (size_t i = 0; i < img.manifest.layers.size(); ++i) {
      std::string dir = img.config.diff_ids[i].hex();
      std::string path = dir + "/layer.tar";
      if (!written[path]) {
        TRY(w.dir(dir + "/"));
        TRY(add_layer_tar(w, images, img.manifest.layers[i], path));
      }
      written[path] = true;
      layers.push_back(path);
    }
    json tags = json::array();
    if (!img.ref.empty()) tags.push_back(familiar_name(img.ref));
    manifest.push_back({{"Config", cfg}, {"RepoTags", tags}, {"Layers", layers}});
  }
  return w.add_bytes("manifest.json", json_text(manifest));
}

la_ssize_t write_fd_cb(struct archive*, void* client, const void* buf, size_t len) {
  int fd = *static_cast<int*>(client);
  if (!write_all(fd, buf, len)) return -1;
  return static_cast<la_ssize_t>(len);
}

}  // namespace

Status save_archive(ImageStore& images, const std::vector<Image>& list, ArchiveFormat format, int fd) {
  ArchivePtr a(archive_write_new(), archive_write_free);
  archive_write_set_format_pax_restricted(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);
  int out = fd;
  if (archive_write_open(a.get(), &out, nullptr, write_fd_cb, nullptr) != ARCHIVE_OK)
    return make_error(ErrorCode::io, std::string("archive: ") + archive_error_text(a.get()));
  Writer w{a.get()};
  if (format == ArchiveFormat::oci)
    TRY(save_oci(w, images, list));
  else
    TRY(save_docker(w, images, list));
  if (archive_write_close(a.get()) != ARCHIVE_OK)
    return make_error(ErrorCode::io, std::string("archive: ") + archive_error_text(a.get()));
  return {};
}

}  // namespace kiln::oci
