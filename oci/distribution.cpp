// Pull and push over the distribution API.
#include "oci/distribution.h"

#include <fcntl.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

#include "oci/media_types.h"

namespace kiln::oci {

namespace {

constexpr size_t kMaxManifest = 4u << 20;

/// Run fn over items on up to jobs threads; the first error wins (the others finish their current blob).
Status for_each_parallel(const std::vector<Descriptor>& items, int jobs, const std::function<Status(const Descriptor&)>& fn) {
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

/// Progress lines from several threads, one at a time.
struct LockedOut {
  std::ostream& out;
  std::mutex mu;
  void line(const std::string& s) {
    std::lock_guard<std::mutex> lk(mu);
    out << s << "\n";
  }
};

const char* kAccept =
    "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

std::string where(const Reference& r) { return r.repository() + (r.tag.empty() ? "" : ":" + r.tag); }

/// GET a manifest by tag or digest; verifies size and digest.
Result<std::pair<std::string, std::string>> get_manifest(Registry& reg, const Reference& ref, const std::string& what,
                                                         const std::optional<cas::Digest>& expected) {
  HttpRequest req;
  req.url = "/v2/" + ref.path + "/manifests/" + what;
  req.headers.push_back(kAccept);
  auto r = TRY(reg.call(req, ref.path, "pull"));
  if (r.status == 404) return make_error(ErrorCode::not_found, "pulling " + where(ref) + ": manifest " + what + " not found");
  if (r.status == 401 || r.status == 403)
    return make_error(ErrorCode::invalid_argument, "pulling " + where(ref) + ": access denied (" + registry_error(r) + "); kiln login " + reg.host());
  if (r.status != 200) return make_error(ErrorCode::io, "pulling " + where(ref) + ": manifest " + what + ": " + registry_error(r));
  if (r.body.size() >= kMaxManifest)
    return make_error(ErrorCode::corrupt, "pulling " + where(ref) + ": manifest " + what + " is larger than 4 MiB");
  cas::Digest got = cas::sha256_of(r.body);
  if (expected && *expected != got)
    return make_error(ErrorCode::corrupt, "pulling " + where(ref) + ": manifest hashes to " + got.str() + ", expected " + expected->str());
  if (auto it = r.headers.find("docker-content-digest"); it != r.headers.end() && !expected && it->second != got.str())
    return make_error(ErrorCode::corrupt, "pulling " + where(ref) + ": the registry says " + it->second + " but the manifest hashes to " + got.str());
  std::string mt = r.headers.count("content-type") ? r.headers["content-type"] : "";
  auto semi = mt.find(';');
  if (semi != std::string::npos) mt = mt.substr(0, semi);
  auto sniffed = sniff_media_type(r.body);
  if (!sniffed) return std::move(sniffed).error().context("pulling " + where(ref));
  if (mt.empty() || (!media::is_manifest(mt) && !media::is_index(mt))) mt = *sniffed;
  return std::make_pair(std::move(r.body), mt);
}

Status fetch_blob(Registry& reg, cas::Store& store, const Reference& ref, const Descriptor& d, LockedOut& out, bool quiet) {
  if (store.has_blob(d.digest)) {
    if (!quiet) out.line(d.digest.str().substr(7, 12) + ": already present");
    return {};
  }
  auto w = TRY(store.new_blob());
  Status write_error;
  HttpRequest req;
  req.url = "/v2/" + ref.path + "/blobs/" + d.digest.str();
  auto r = reg.call(req, ref.path, "pull", [&](const char* data, size_t len) {
    auto st = w.write(data, len);
    if (!st) write_error = st;
    return st.ok();
  });
  if (!write_error) return std::move(write_error).error().context("pulling " + where(ref) + " blob " + d.digest.str());
  if (!r) return std::move(r).error().context("pulling " + where(ref) + " blob " + d.digest.str());
  if (r->status != 200) return make_error(ErrorCode::io, "pulling " + where(ref) + " blob " + d.digest.str() + ": " + registry_error(*r));
  TRY_CTX(w.commit(d.digest, static_cast<int64_t>(d.size)), "pulling " + where(ref) + " blob " + d.digest.str() + " (the registry sent other bytes)");
  if (!quiet) out.line(d.digest.str().substr(7, 12) + ": downloaded " + std::to_string(d.size) + " bytes");
  return {};
}

}  // namespace

Result<std::string> pull_image(ImageStore& images, const Reference& ref, const TransferOptions& opts, std::ostream& out) {
  cas::Store& store = images.store();
  auto lock = TRY(store.writer_lock());
  Registry reg(ref.domain, opts.registry);
  std::optional<cas::Digest> pinned;
  if (!ref.digest.empty()) pinned = TRY(cas::Digest::parse(ref.digest));
  auto [top_bytes, top_mt] = TRY(get_manifest(reg, ref, ref.digest.empty() ? ref.tag : ref.digest, pinned));
  std::string manifest_bytes = top_bytes, manifest_mt = top_mt;
  cas::Digest manifest_digest = cas::sha256_of(top_bytes);
  if (media::is_index(top_mt)) {
    Index ix = TRY_CTX(parse_index(top_bytes), "pulling " + where(ref));
    std::string want_os = opts.platform.substr(0, opts.platform.find('/'));
    std::string want_arch = opts.platform.substr(opts.platform.find('/') + 1);
    const Descriptor* pick = nullptr;
    for (const auto& m : ix.manifests)
      if (m.platform && m.platform->os == want_os && m.platform->architecture == want_arch) {
        pick = &m;
        break;
      }
    if (!pick) return make_error(ErrorCode::not_found, "pulling " + where(ref) + ": no " + opts.platform + " image in its index");
    auto [mb, mmt] = TRY(get_manifest(reg, ref, pick->digest.str(), pick->digest));
    manifest_bytes = mb;
    manifest_mt = mmt;
    manifest_digest = pick->digest;
  }
  if (!media::is_manifest(manifest_mt)) return make_error(ErrorCode::unsupported, "pulling " + where(ref) + ": unsupported manifest type " + manifest_mt);
  Manifest m = TRY_CTX(parse_manifest(manifest_bytes), "pulling " + where(ref));
  for (const auto& l : m.layers)
    if (!media::is_layer(l.media_type)) return make_error(ErrorCode::unsupported, "pulling " + where(ref) + ": unsupported layer type " + l.media_type);
  LockedOut lo{out, {}};
  std::vector<Descriptor> blobs = m.layers;
  blobs.push_back(m.config);
  TRY(for_each_parallel(blobs, opts.jobs, [&](const Descriptor& d) { return fetch_blob(reg, store, ref, d, lo, opts.quiet); }));
  // Manifests last, byte for byte: the digest the registry reports is the digest kiln shows.
  TRY(store.put_blob(manifest_bytes, manifest_digest));
  auto top = TRY(store.put_blob(top_bytes));
  TRY(store.set_tag(ref.str(), top_mt, top));
  if (!opts.quiet) out << "Digest: " << top.digest.str() << "\n";
  return top.digest.str();
}

namespace {

Status push_blob(Registry& reg, cas::Store& store, const Reference& dest, const Descriptor& d, LockedOut& out, bool quiet) {
  HttpRequest head;
  head.method = "HEAD";
  head.url = "/v2/" + dest.path + "/blobs/" + d.digest.str();
  auto h = TRY_CTX(reg.call(head, dest.path, "pull,push"), "pushing to " + where(dest));
  if (h.status == 200) {
    if (!quiet) out.line(d.digest.str().substr(7, 12) + ": already exists");
    return {};
  }
  HttpRequest start;
  start.method = "POST";
  start.url = "/v2/" + dest.path + "/blobs/uploads/";
  start.body = "";
  auto s = TRY_CTX(reg.call(start, dest.path, "pull,push"), "pushing to " + where(dest));
  if (s.status == 401 || s.status == 403)
    return make_error(ErrorCode::invalid_argument, "pushing to " + where(dest) + ": access denied (" + registry_error(s) + "); kiln login " + reg.host());
  if (s.status != 202 || !s.headers.count("location"))
    return make_error(ErrorCode::io, "pushing to " + where(dest) + ": starting upload of " + d.digest.str() + ": " + registry_error(s));
  std::string loc = s.headers["location"];
  if (loc.rfind("http", 0) != 0) loc = reg.base() + loc;
  loc += (loc.find('?') == std::string::npos ? "?" : "&") + std::string("digest=") + d.digest.str();
  UniqueFd fd = TRY(store.open_blob(d.digest));
  HttpRequest put;
  put.method = "PUT";
  put.url = loc;
  put.body_fd = fd.get();
  put.body_size = static_cast<int64_t>(d.size);
  put.headers.push_back("Content-Type: application/octet-stream");
  auto p = TRY_CTX(reg.call(put, dest.path, "pull,push"), "pushing " + d.digest.str() + " to " + where(dest));
  if (p.status != 201) return make_error(ErrorCode::io, "pushing " + d.digest.str() + " to " + where(dest) + ": " + registry_error(p));
  if (!quiet) out.line(d.digest.str().substr(7, 12) + ": pushed " + std::to_string(d.size) + " bytes");
  return {};
}

Status put_manifest(Registry& reg, const Reference& dest, const std::string& what, const std::string& bytes, const std::string& mt) {
  HttpRequest put;
  put.method = "PUT";
  put.url = "/v2/" + dest.path + "/manifests/" + what;
  put.body = bytes;
  put.headers.push_back("Content-Type: " + mt);
  auto r = TRY_CTX(reg.call(put, dest.path, "pull,push"), "pushing manifest to " + where(dest));
  if (r.status != 201) return make_error(ErrorCode::io, "pushing manifest to " + where(dest) + ": " + registry_error(r));
  return {};
}

}  // namespace

Result<std::string> push_image(ImageStore& images, const Image& img, const Reference& dest, const TransferOptions& opts,
                               std::ostream& out) {
  cas::Store& store = images.store();
  Registry reg(dest.domain, opts.registry);
  LockedOut lo{out, {}};
  std::vector<Descriptor> blobs = img.manifest.layers;
  blobs.push_back(img.manifest.config);
  TRY(for_each_parallel(blobs, opts.jobs, [&](const Descriptor& d) { return push_blob(reg, store, dest, d, lo, opts.quiet); }));
  std::string mt = img.manifest.media_type.empty() ? media::oci_manifest : img.manifest.media_type;
  std::string tag = dest.tag.empty() ? img.manifest_digest.str() : dest.tag;
  if (img.entry.digest != img.manifest_digest) {
    // An index: push the platform manifest by digest, then the index under the tag.
    TRY(put_manifest(reg, dest, img.manifest_digest.str(), img.manifest_bytes, mt));
    std::string index_bytes = TRY(store.read_blob(img.entry.digest));
    TRY(put_manifest(reg, dest, tag, index_bytes, img.entry.media_type));
    return img.entry.digest.str();
  }
  TRY(put_manifest(reg, dest, tag, img.manifest_bytes, mt));
  if (!opts.quiet) out << "Digest: " << img.manifest_digest.str() << "\n";
  return img.manifest_digest.str();
}

Result<Image> resolve_or_pull(ImageStore& images, const std::string& name, const std::string& policy,
                              const TransferOptions& opts, std::ostream& out) {
  if (policy != "missing" && policy != "always" && policy != "never")
    return make_error(ErrorCode::invalid_argument, "--pull must be missing, always or never, not " + policy);
  if (policy != "always") {
    auto img = images.resolve(name);
    if (img || policy == "never" || img.error().code != ErrorCode::not_found || looks_like_id(name)) return img;
  }
  auto ref = TRY(Reference::parse(name));
  auto pulled = pull_image(images, ref, opts, out);
  if (!pulled) {
    Error e = std::move(pulled).error();
    if (policy == "missing")
      e.message = "no such image " + name + " in the store, and pulling it failed: " + e.message;
    return e;
  }
  return images.resolve(ref.str());
}

}  // namespace kiln::oci
