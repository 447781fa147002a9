// Pull and push over the distribution API.
#include "oci/distribution.h"

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "common/json.h"
#include "common/log.h"
#include "oci/blob_locations.h"
#include "oci/layer_unpack.h"
#include "oci/media_types.h"
#include "oci/progress.h"
#include "oci/registries_conf.h"

namespace kiln::oci {

namespace {

constexpr size_t kMaxManifest = 4u << 20;

/// Run fn over items on up to jobs threads; the first error wins (the others finish their current blob).
Status for_each_parallel(const std::vector<Descriptor>& items, int jobs,
                         const std::function<Status(const Descriptor&)>& fn) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first;
  auto worker = [&] {
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= items.size()) return;
      {
        std::lock_guard<std::mutex> lk(mu);
        if (!first) return;
      }
      Status st = fn(items[i]);
      std::lock_guard<std::mutex> lk(mu);
      if (!st && first) first = std::move(st);
    }
  };
  std::vector<std::thread> threads;
  int n = std::max(1, std::min<int>(jobs, static_cast<int>(items.size())));
  for (int t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  return first;
}

const char* kAccept =
    "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

std::string where(const Reference& r) { return r.repository() + (r.tag.empty() ? "" : ":" + r.tag); }

/// A manifest the registry answered 404 for, in a user's words: the repository is unknown, or it has no such
/// tag, or no such digest. Registries answer MANIFEST_UNKNOWN for an unknown repository too (the reference
/// registry does), so a tag's miss asks the repository's tag list, which an unknown repository answers 404.
Error manifest_not_found(Registry& reg, const Reference& ref, const std::string& what, const HttpResponse& r) {
  std::string repo_missing = "repository " + ref.path + " not found in " + ref.domain;
  if (registry_error_code(r) == "NAME_UNKNOWN") return make_error(ErrorCode::not_found, repo_missing);
  if (what.rfind("sha256:", 0) == 0)
    return make_error(ErrorCode::not_found, "manifest " + what + " not found in " + ref.repository());
  HttpRequest tags;
  tags.url = "/v2/" + ref.path + "/tags/list?n=1";
  if (auto t = reg.call(tags, ref.path, "pull"); t && t->status == 404 && registry_error_code(*t) == "NAME_UNKNOWN")
    return make_error(ErrorCode::not_found, repo_missing);
  return make_error(ErrorCode::not_found, "tag " + what + " not found in " + ref.repository());
}

/// GET a manifest by tag or digest; verifies size and digest.
Result<std::pair<std::string, std::string>> get_manifest(Registry& reg, const Reference& ref, const std::string& what,
                                                         const std::optional<cas::Digest>& expected) {
  HttpRequest req;
  req.url = "/v2/" + ref.path + "/manifests/" + what;
  req.headers.push_back(kAccept);
  req.max_body = kMaxManifest;
  auto r = TRY(reg.call(req, ref.path, "pull"));  // a transport error names the host; the command, the image
  if (r.status == 404) return manifest_not_found(reg, ref, what, r);
  if (r.status == 401 || r.status == 403)
    return make_error(ErrorCode::invalid_argument, "pulling " + where(ref) + ": access denied (" + registry_error(r) +
                                                       "); kiln login " + reg.host());
  if (r.status != 200)
    return make_error(ErrorCode::io, "pulling " + where(ref) + ": manifest " + what + ": " + registry_error(r));
  if (r.body.size() >= kMaxManifest)
    return make_error(ErrorCode::corrupt, "pulling " + where(ref) + ": manifest " + what + " is larger than 4 MiB");
  cas::Digest got = cas::sha256_of(r.body);
  if (expected && *expected != got)
    return make_error(ErrorCode::corrupt,
                      "pulling " + where(ref) + ": manifest hashes to " + got.str() + ", expected " + expected->str());
  if (auto it = r.headers.find("docker-content-digest"); it != r.headers.end() && !expected && it->second != got.str())
    return make_error(ErrorCode::corrupt, "pulling " + where(ref) + ": the registry says " + it->second +
                                              " but the manifest hashes to " + got.str());
  std::string mt = r.headers.count("content-type") ? r.headers["content-type"] : "";
  auto semi = mt.find(';');
  if (semi != std::string::npos) mt = mt.substr(0, semi);
  auto sniffed = sniff_media_type(r.body);
  if (!sniffed) return std::move(sniffed).error().context("pulling " + where(ref));
  if (mt.empty() || (!media::is_manifest(mt) && !media::is_index(mt))) mt = *sniffed;
  return std::make_pair(std::move(r.body), mt);
}

std::string short_id(const cas::Digest& d) { return d.hex().substr(0, 12); }

/// Each blob once (manifests of several platforms share layers and configs).
void dedupe(std::vector<Descriptor>& blobs) {
  std::sort(blobs.begin(), blobs.end(), [](const Descriptor& a, const Descriptor& b) { return a.digest < b.digest; });
  blobs.erase(std::unique(blobs.begin(), blobs.end(),
                          [](const Descriptor& a, const Descriptor& b) { return a.digest == b.digest; }),
              blobs.end());
}

/// Layers to unpack while they download (TransferOptions::unpack): each layer blob's diffID, from its config.
struct Unpacking {
  cas::LayerTrees trees;
  std::map<cas::Digest, cas::Digest> diff_ids;
};

Status fetch_blob(Registry& reg, cas::Store& store, const Reference& ref, const Descriptor& d, Progress& pr,
                  Unpacking* unpacking = nullptr) {
  size_t id = pr.add(short_id(d.digest), d.size);
  if (store.has_blob(d.digest)) {
    pr.finish(id, "already present");
    return {};
  }
  auto w = TRY(store.new_blob());
  std::unique_ptr<LayerUnpack> unpack;
  if (unpacking)
    if (auto it = unpacking->diff_ids.find(d.digest);
        it != unpacking->diff_ids.end() && !unpacking->trees.has(it->second))
      unpack = LayerUnpack::start(unpacking->trees, d, it->second);
  Status write_error;
  HttpRequest req;
  req.url = "/v2/" + ref.path + "/blobs/" + d.digest.str();
  uint64_t received = 0;
  auto r = reg.call(req, ref.path, "pull", [&](const char* data, size_t len) {
    // Never more than the descriptor's size: a registry that sends without end must not fill the disk.
    received += len;
    if (received > d.size) {
      write_error = make_error(ErrorCode::corrupt, "the registry sent more than the " + std::to_string(d.size) +
                                                       " bytes the manifest declares: refused");
      return false;
    }
    auto st = w.write(data, len);
    if (!st) write_error = st;
    if (unpack) unpack->feed(data, len);
    pr.advance(id, len);
    return st.ok();
  });
  // The extractor reads the end of what came (or a cut stream) and publishes the tree only if it all checks.
  Status unpacked = unpack ? unpack->finish() : Status{};
  if (!unpacked) log::debug("layer " + d.digest.str() + " not unpacked while downloading: " + unpacked.error().what());
  if (!write_error) return std::move(write_error).error().context("pulling " + where(ref) + " blob " + d.digest.str());
  if (!r) return std::move(r).error().context("pulling " + where(ref) + " blob " + d.digest.str());
  if (r->status != 200)
    return make_error(ErrorCode::io, "pulling " + where(ref) + " blob " + d.digest.str() + ": " + registry_error(*r));
  TRY_CTX(w.commit(d.digest, static_cast<int64_t>(d.size)),
          "pulling " + where(ref) + " blob " + d.digest.str() + " (the registry sent other bytes)");
  pr.finish(id, "downloaded " + std::to_string(d.size) + " bytes" + (unpack && unpacked ? ", unpacked" : ""));
  return {};
}

/// Registry options for a source: an insecure registry of registries.conf allows plain HTTP and unverified TLS
/// unless --tls-verify said otherwise.
RegistryOptions options_for(const RegistrySource& src, const RegistryOptions& given) {
  RegistryOptions o = given;
  if (!o.tls_verify && src.tls_verify) o.tls_verify = src.tls_verify;
  return o;
}

/// Pull what src names (a mirror, a moved location, or the reference itself) and tag it as name.
Result<std::string> pull_from(ImageStore& images, const Reference& name, const RegistrySource& src,
                              const TransferOptions& opts, std::ostream& out) {
  const Reference& ref = src.ref;
  cas::Store& store = images.store();
  auto lock = TRY(store.writer_lock());
  Registry reg(ref.domain, options_for(src, opts.registry));
  std::optional<cas::Digest> pinned;
  if (!ref.digest.empty()) pinned = TRY(cas::Digest::parse(ref.digest));
  auto [top_bytes, top_mt] = TRY(get_manifest(reg, ref, ref.digest.empty() ? ref.tag : ref.digest, pinned));
  // The manifests to fetch: the one named, or from an index the platform asked for (or all of them).
  std::vector<std::pair<cas::Digest, std::string>> manifests;  // digest, bytes
  if (media::is_index(top_mt)) {
    Index ix = TRY_CTX(parse_index(top_bytes), "pulling " + where(ref));
    std::string want_os = opts.platform.substr(0, opts.platform.find('/'));
    std::string want_arch = opts.platform.substr(opts.platform.find('/') + 1);
    for (const auto& m : ix.manifests) {
      bool wanted = opts.all_platforms || (m.platform && m.platform->os == want_os &&
                                           m.platform->architecture == want_arch && manifests.empty());
      if (!wanted) continue;
      if (!media::is_manifest(m.media_type))
        return make_error(ErrorCode::unsupported,
                          "pulling " + where(ref) + ": nested index " + m.digest.str() + " is not supported");
      auto [mb, mmt] = TRY(get_manifest(reg, ref, m.digest.str(), m.digest));
      if (!media::is_manifest(mmt))
        return make_error(ErrorCode::unsupported, "pulling " + where(ref) + ": unsupported manifest type " + mmt);
      manifests.emplace_back(m.digest, std::move(mb));
    }
    if (manifests.empty())
      return make_error(ErrorCode::not_found,
                        "pulling " + where(ref) + ": no " + opts.platform + " image in its index");
  } else {
    if (!media::is_manifest(top_mt))
      return make_error(ErrorCode::unsupported, "pulling " + where(ref) + ": unsupported manifest type " + top_mt);
    manifests.emplace_back(cas::sha256_of(top_bytes), top_bytes);
  }
  std::vector<Manifest> parsed;
  std::vector<Descriptor> blobs;
  for (const auto& [digest, bytes] : manifests) {
    Manifest m = TRY_CTX(parse_manifest(bytes), "pulling " + where(ref) + " manifest " + digest.str());
    // With --all-platforms other platforms' entries (attestations, say) may carry other layer types: they are
    // stored, never run.
    for (const auto& l : m.layers)
      if (!opts.all_platforms && !media::is_layer(l.media_type))
        return make_error(ErrorCode::unsupported, "pulling " + where(ref) + ": unsupported layer type " + l.media_type);
    blobs.insert(blobs.end(), m.layers.begin(), m.layers.end());
    blobs.push_back(m.config);
    parsed.push_back(std::move(m));
  }
  dedupe(blobs);
  const std::vector<Descriptor> all_blobs = blobs;
  {
    Progress pr(out, opts.quiet ? Progress::Mode::quiet : opts.progress);
    std::optional<Unpacking> unpacking;
    if (opts.unpack && parsed.size() == 1) {
      // The config first: it names the diffID each layer's tree is kept under, which the unpack checks.
      const Manifest& m = parsed.front();
      TRY(fetch_blob(reg, store, ref, m.config, pr));
      blobs.erase(
          std::find_if(blobs.begin(), blobs.end(), [&](const Descriptor& d) { return d.digest == m.config.digest; }));
      auto config = parse_config(TRY(store.read_blob(m.config.digest)));
      unpacking.emplace(Unpacking{cas::LayerTrees(store), {}});
      if (config && config->diff_ids.size() == m.layers.size())  // else ImageStore refuses the image later
        for (size_t i = 0; i < m.layers.size(); ++i)
          unpacking->diff_ids.emplace(m.layers[i].digest, config->diff_ids[i]);
    }
    Unpacking* u = unpacking ? &*unpacking : nullptr;
    TRY(for_each_parallel(blobs, opts.jobs,
                          [&](const Descriptor& d) { return fetch_blob(reg, store, ref, d, pr, u); }));
  }
  for (const auto& d : all_blobs) remember_location(store, d.digest, reg.host(), ref.path);
  // Manifests last, byte for byte: the digest the registry reports is the digest kiln shows.
  for (const auto& [digest, bytes] : manifests) TRY(store.put_blob(bytes, digest));
  auto top = TRY(store.put_blob(top_bytes));
  TRY(store.set_tag(name.str(), top_mt, top));
  if (!opts.quiet) out << "Digest: " << top.digest.str() << "\n";
  return top.digest.str();
}

}  // namespace

Result<std::string> pull_image(ImageStore& images, const Reference& ref, const TransferOptions& opts,
                               std::ostream& out) {
  auto conf = TRY(RegistriesConf::load());
  auto sources = TRY(pull_sources(conf, ref));
  for (size_t i = 0;; ++i) {
    auto digest = pull_from(images, ref, sources[i], opts, out);
    if (digest || i + 1 == sources.size()) return digest;
    // A mirror that fails is passed over, as podman passes it: the next one, then the registry itself.
    if (!opts.quiet)
      out << "mirror " << sources[i].ref.repository() << " failed (" << digest.error().what() << "); trying "
          << sources[i + 1].ref.repository() << "\n";
  }
}

Result<std::string> pull_named(ImageStore& images, const std::string& name, const TransferOptions& opts,
                               std::ostream& out) {
  auto conf = TRY(RegistriesConf::load());
  auto candidates = TRY(name_candidates(conf, name));
  for (size_t i = 0;; ++i) {
    auto digest = pull_image(images, candidates[i], opts, out);
    if (digest) return candidates[i].str();
    if (i + 1 == candidates.size()) return std::move(digest).error();
    log::debug("short name " + name + ": not pulled from " + candidates[i].repository() + " (" + digest.error().what() +
               ")");
  }
}

namespace {

/// Blobs up to this size go up in one PUT. Larger ones stream in one PATCH (as skopeo sends them), which a
/// dropped connection can resume from where the registry says it got (GET of the session's Range); a registry
/// that refuses so large a body (413) gets chunks of this size, or of its OCI-Chunk-Min-Length if larger.
constexpr uint64_t kChunk = 16u << 20;

std::string absolute(Registry& reg, const std::string& location) {
  return location.rfind("http", 0) == 0 ? location : reg.base() + location;
}

/// Start an upload session, or finish at once by mounting the blob from another repository of this registry
/// that is known to hold it. Returns the session location, or "" when mounted (mounted_from set).
Result<std::string> start_upload(Registry& reg, cas::Store& store, const Reference& dest, const Descriptor& d,
                                 std::string& mounted_from, uint64_t& min_chunk) {
  auto session = [&](const HttpResponse& r) -> std::string {
    if (auto it = r.headers.find("oci-chunk-min-length"); it != r.headers.end())
      min_chunk = std::strtoull(it->second.c_str(), nullptr, 10);
    auto loc = r.headers.find("location");
    return loc == r.headers.end() ? "" : absolute(reg, loc->second);
  };
  int tries = 0;
  for (const auto& from : known_repositories(store, d.digest, reg.host())) {
    if (from == dest.path || ++tries > 3) continue;
    HttpRequest mount;
    mount.method = "POST";
    mount.url = "/v2/" + dest.path + "/blobs/uploads/?mount=" + d.digest.str() + "&from=" + from;
    mount.body = "";
    auto m = reg.call(mount, dest.path, "pull,push", {}, from);
    if (!m) continue;
    if (m->status == 201) {
      mounted_from = from;
      return std::string();
    }
    if (m->status == 202 && m->headers.count("location")) return session(*m);  // the registry chose a plain upload
  }
  HttpRequest start;
  start.method = "POST";
  start.url = "/v2/" + dest.path + "/blobs/uploads/";
  start.body = "";
  auto s = TRY_CTX(reg.call(start, dest.path, "pull,push"), "pushing to " + where(dest));
  if (s.status == 401 || s.status == 403)
    return make_error(ErrorCode::invalid_argument, "pushing to " + where(dest) + ": access denied (" +
                                                       registry_error(s) + "); kiln login " + reg.host());
  std::string loc = session(s);
  if (s.status != 202 || loc.empty())
    return make_error(ErrorCode::io, "pushing to " + where(dest) + ": starting upload of " + d.digest.str() + ": " +
                                         registry_error(s));
  return loc;
}

std::string with_digest(const std::string& loc, const cas::Digest& d) {
  return loc + (loc.find('?') == std::string::npos ? "?" : "&") + "digest=" + d.str();
}

/// PATCH the blob in chunks; after a failed chunk, ask the registry how far it got (GET on the session) and go
/// on from there. Returns the location to finish the session at.
Result<std::string> upload_chunks(Registry& reg, const Reference& dest, const Descriptor& d, int fd, std::string loc,
                                  uint64_t chunk, uint64_t fallback_chunk, Progress& pr, size_t id) {
  std::string what = "pushing " + d.digest.str() + " to " + where(dest);
  uint64_t offset = 0;
  int recoveries = 0;
  while (offset < d.size) {
    uint64_t n = std::min<uint64_t>(chunk, d.size - offset);
    HttpRequest patch;
    patch.method = "PATCH";
    patch.url = loc;
    patch.body_fd = fd;
    patch.body_offset = static_cast<int64_t>(offset);
    patch.body_size = static_cast<int64_t>(n);
    patch.headers.push_back("Content-Type: application/octet-stream");
    patch.headers.push_back("Content-Range: " + std::to_string(offset) + "-" + std::to_string(offset + n - 1));
    patch.on_sent = [&](size_t b) { pr.advance(id, b); };
    auto r = reg.call(patch, dest.path, "pull,push");
    if (r && r->status == 202) {
      if (auto it = r->headers.find("location"); it != r->headers.end()) loc = absolute(reg, it->second);
      offset += n;
      continue;
    }
    if (r && (r->status == 401 || r->status == 403 || r->status == 404))
      return make_error(ErrorCode::io, what + ": chunk at " + std::to_string(offset) + ": " + registry_error(*r));
    if (r && r->status == 413 && chunk > fallback_chunk) {
      chunk = fallback_chunk;  // too large a body for this registry (or a proxy before it): chunks from here on
      log::debug(what + ": the registry refused a " + std::to_string(n) + "-byte body; sending chunks of " +
                 std::to_string(chunk));
    } else if (++recoveries > 3) {
      if (!r) return std::move(r).error().context(what);
      return make_error(ErrorCode::io, what + ": chunk at " + std::to_string(offset) + ": " + registry_error(*r));
    }
    HttpRequest status;
    status.url = loc;
    auto st = reg.call(status, dest.path, "pull,push");
    if (!st) return std::move(st).error().context(what);
    if (st->status != 204)
      return make_error(ErrorCode::conflict, what + ": the upload session is gone: " + registry_error(*st));
    // "0-N": N + 1 bytes are there. "0-0" is what the reference registry says of an empty session too, so it
    // counts as none (had one byte arrived, sending it again is refused, and the blob starts over).
    offset = 0;
    if (auto it = st->headers.find("range"); it != st->headers.end()) {
      auto dash = it->second.find('-');
      if (dash != std::string::npos && dash + 1 < it->second.size() &&
          std::isdigit(static_cast<unsigned char>(it->second[dash + 1]))) {
        uint64_t last = std::strtoull(it->second.c_str() + dash + 1, nullptr, 10);
        offset = last == 0 ? 0 : last + 1;
      }
    }
    if (auto it = st->headers.find("location"); it != st->headers.end()) loc = absolute(reg, it->second);
  }
  return loc;
}

Status push_blob(Registry& reg, cas::Store& store, const Reference& dest, const Descriptor& d, Progress& pr) {
  size_t id = pr.add(short_id(d.digest), d.size);
  HttpRequest head;
  head.method = "HEAD";
  head.url = "/v2/" + dest.path + "/blobs/" + d.digest.str();
  auto h = TRY_CTX(reg.call(head, dest.path, "pull,push"), "pushing to " + where(dest));
  if (h.status == 200) {
    pr.finish(id, "already exists");
    remember_location(store, d.digest, reg.host(), dest.path);
    return {};
  }
  std::string mounted_from;
  uint64_t min_chunk = 0;
  std::string loc = TRY(start_upload(reg, store, dest, d, mounted_from, min_chunk));
  if (loc.empty()) {
    pr.finish(id, "mounted from " + mounted_from);
    remember_location(store, d.digest, reg.host(), dest.path);
    return {};
  }
  UniqueFd fd = TRY(store.open_blob(d.digest));
  uint64_t fallback_chunk = std::max(kChunk, min_chunk);
  HttpRequest put;
  put.method = "PUT";
  put.headers.push_back("Content-Type: application/octet-stream");
  if (d.size > kChunk) {
    auto done = upload_chunks(reg, dest, d, fd.get(), loc, d.size, fallback_chunk, pr, id);
    if (!done && done.error().code == ErrorCode::conflict) {
      // The registry cannot say where the session stands (the reference registry signs the offset into the
      // location, and the newest location was lost with the chunk): start over in a new session, once.
      loc = TRY(start_upload(reg, store, dest, d, mounted_from, min_chunk));
      if (loc.empty())
        return make_error(ErrorCode::io, "pushing " + d.digest.str() + " to " + where(dest) + ": no upload session");
      done = upload_chunks(reg, dest, d, fd.get(), loc, d.size, fallback_chunk, pr, id);
    }
    loc = TRY(std::move(done));
    put.body = "";
  } else {
    put.body_fd = fd.get();
    put.body_size = static_cast<int64_t>(d.size);
    put.on_sent = [&](size_t b) { pr.advance(id, b); };
  }
  put.url = with_digest(loc, d.digest);
  auto p = TRY_CTX(reg.call(put, dest.path, "pull,push"), "pushing " + d.digest.str() + " to " + where(dest));
  if (p.status != 201)
    return make_error(ErrorCode::io, "pushing " + d.digest.str() + " to " + where(dest) + ": " + registry_error(p));
  remember_location(store, d.digest, reg.host(), dest.path);
  pr.finish(id, "pushed " + std::to_string(d.size) + " bytes");
  return {};
}

Status put_manifest(Registry& reg, const Reference& dest, const std::string& what, const std::string& bytes,
                    const std::string& mt) {
  HttpRequest put;
  put.method = "PUT";
  put.url = "/v2/" + dest.path + "/manifests/" + what;
  put.body = bytes;
  put.headers.push_back("Content-Type: " + mt);
  auto r = TRY_CTX(reg.call(put, dest.path, "pull,push"), "pushing manifest to " + where(dest));
  if (r.status != 201)
    return make_error(ErrorCode::io, "pushing manifest to " + where(dest) + ": " + registry_error(r));
  return {};
}

struct PushPart {
  cas::Digest digest;
  std::string bytes, media_type;
  Manifest manifest;
};

/// Every manifest an index names, when each is whole in the store (manifest, config, layers); else nothing.
std::vector<PushPart> whole_index(cas::Store& store, const Index& ix) {
  std::vector<PushPart> parts;
  for (const auto& d : ix.manifests) {
    if (!media::is_manifest(d.media_type) || !store.has_blob(d.digest)) return {};
    auto bytes = store.read_blob(d.digest);
    if (!bytes) return {};
    auto m = parse_manifest(*bytes);
    if (!m || !store.has_blob(m->config.digest)) return {};
    for (const auto& l : m->layers)
      if (!store.has_blob(l.digest)) return {};
    parts.push_back(PushPart{d.digest, std::move(*bytes), d.media_type, std::move(*m)});
  }
  return parts;
}

}  // namespace

Result<std::string> push_image(ImageStore& images, const Image& img, const Reference& dest_given,
                               const TransferOptions& opts, std::ostream& out) {
  cas::Store& store = images.store();
  auto conf = TRY(RegistriesConf::load());
  RegistrySource target = TRY(push_target(conf, dest_given));
  const Reference& dest = target.ref;
  Registry reg(dest.domain, options_for(target, opts.registry));
  std::string own_mt = img.manifest.media_type.empty() ? media::oci_manifest : img.manifest.media_type;
  std::vector<PushPart> parts;
  std::string index_bytes;
  if (img.entry.digest != img.manifest_digest) {
    // An index: push it whole when the store has every manifest it names (kiln load of a multi-platform
    // archive); a pull keeps only one platform, and then, as podman and skopeo do, that manifest goes alone.
    index_bytes = TRY(store.read_blob(img.entry.digest));
    Index ix = TRY_CTX(parse_index(index_bytes), "pushing " + img.entry.digest.str());
    parts = whole_index(store, ix);
    if (parts.empty()) {
      index_bytes.clear();
      if (!opts.quiet)
        out << "The store holds one platform of " << (img.ref.empty() ? img.entry.digest.str() : img.ref)
            << "'s index: pushing its manifest " << img.manifest_digest.str() << " alone\n";
    }
  }
  if (parts.empty()) parts.push_back(PushPart{img.manifest_digest, img.manifest_bytes, own_mt, img.manifest});
  std::vector<Descriptor> blobs;
  for (const auto& part : parts) {
    blobs.push_back(part.manifest.config);
    blobs.insert(blobs.end(), part.manifest.layers.begin(), part.manifest.layers.end());
  }
  dedupe(blobs);
  {
    Progress pr(out, opts.quiet ? Progress::Mode::quiet : opts.progress);
    TRY(for_each_parallel(blobs, opts.jobs, [&](const Descriptor& d) { return push_blob(reg, store, dest, d, pr); }));
  }
  if (!index_bytes.empty()) {
    for (const auto& part : parts) TRY(put_manifest(reg, dest, part.digest.str(), part.bytes, part.media_type));
    TRY(put_manifest(reg, dest, dest.tag.empty() ? img.entry.digest.str() : dest.tag, index_bytes,
                     img.entry.media_type));
    if (!opts.quiet) out << "Digest: " << img.entry.digest.str() << "\n";
    return img.entry.digest.str();
  }
  const PushPart& only = parts.front();
  TRY(put_manifest(reg, dest, dest.tag.empty() ? only.digest.str() : dest.tag, only.bytes, only.media_type));
  if (!opts.quiet) out << "Digest: " << only.digest.str() << "\n";
  return only.digest.str();
}

Result<Image> resolve_or_pull(ImageStore& images, const std::string& name, const std::string& policy,
                              const TransferOptions& opts, std::ostream& out, const Puller& puller) {
  if (policy != "missing" && policy != "always" && policy != "never")
    return make_error(ErrorCode::invalid_argument, "--pull must be missing, always or never, not " + policy);
  if (policy != "always") {
    auto img = images.resolve(name);  // short names included
    if (img || policy == "never" || img.error().code != ErrorCode::not_found || looks_like_id(name)) return img;
  }
  // A short name with unqualified-search-registries stands for several references: the first the store has
  // (ImageStore::resolve, above), else the first a registry has. Read only now: a run of an image the store
  // has reads no registries.conf.
  std::vector<Reference> candidates;
  if (!looks_like_id(name))
    if (auto conf = RegistriesConf::load(); conf && !conf->search.empty())
      if (auto c = name_candidates(*conf, name)) candidates = std::move(*c);
  if (candidates.empty()) candidates.push_back(TRY(Reference::parse(name)));
  Status pulled;
  for (const auto& ref : candidates) {
    if (puller) {
      pulled = puller(ref);
    } else if (auto digest = pull_image(images, ref, opts, out); !digest) {
      pulled = std::move(digest).error();
    } else {
      pulled = {};
    }
    if (pulled) return images.resolve(ref.str());
  }
  Error e = std::move(pulled).error();
  if (policy == "missing") e.message = "no such image " + name + " in the store, and pulling it failed: " + e.message;
  return e;
}

}  // namespace kiln::oci
