// The OCI-layout store: blobs, index.json, locks.
#include "cas/store.h"
#include "common/identity.h"
#include "common/json.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace kiln::cas {

namespace {
constexpr const char* kRefAnnotation = "org.opencontainers.image.ref.name";
constexpr const char* kLayoutFile = "{\"imageLayoutVersion\":\"1.0.0\"}";
}  // namespace

Status write_file_atomic(const std::string& path, std::string_view bytes, bool durable, const std::string& temp_dir) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  std::string tmpl = temp_dir.empty() ? path + ".tmp-XXXXXX" : temp_dir + "/file-XXXXXX";
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return sys_error("create temp file for " + path);
  UniqueFd owned(fd);
  ::fchmod(fd, 0644);
  auto fail = [&](Error e) {
    ::unlink(tmpl.c_str());
    return e;
  };
  if (auto st = write_all(fd, bytes); !st) return fail(st.error().context(path));
  if (durable && ::fsync(fd) < 0) return fail(sys_error("fsync " + path));
  owned.reset();
  if (::rename(tmpl.c_str(), path.c_str()) < 0) return fail(sys_error("rename to " + path));
  return durable ? fsync_dir(dir) : Status{};
}

std::string Store::default_root() {
  if (const char* r = ::getenv("KILN_ROOT"); r && *r) return r;
  if (!rootless()) return "/var/lib/kiln";
  if (const char* x = ::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/kiln";
  const char* home = ::getenv("HOME");
  return std::string(home ? home : "/tmp") + "/.local/share/kiln";
}

Result<Store> Store::open(const std::string& root) {
  if (root.empty()) return make_error(ErrorCode::invalid_argument, "store root is empty");
  Store s(root);
  TRY_CTX(s.init_layout(), "opening store " + root);
  return s;
}

Status Store::init_layout() {
  TRY(make_dirs(blobs_dir()));
  TRY(make_dirs(tmp_dir(), 0700));
  if (!path_exists(m_root + "/oci-layout")) TRY(write_file_atomic(m_root + "/oci-layout", kLayoutFile));
  if (!path_exists(m_root + "/index.json")) {
    auto lock = TRY(FileLock::acquire(private_dir() + "/index.lock", FileLock::Mode::exclusive));
    if (!path_exists(m_root + "/index.json")) TRY(write_index({}));
  }
  return {};
}

bool Store::has_blob(const Digest& d) const { return path_exists(blob_path(d)); }

Result<UniqueFd> Store::open_blob(const Digest& d) const {
  auto fd = open_fd(blob_path(d), O_RDONLY);
  if (!fd && fd.error().code == ErrorCode::not_found)
    return make_error(ErrorCode::not_found, "blob " + d.str() + " is missing from the store");
  return fd;
}

Result<uint64_t> Store::blob_size(const Digest& d) const {
  struct stat st;
  if (::stat(blob_path(d).c_str(), &st) < 0) return sys_error("blob " + d.str());
  return static_cast<uint64_t>(st.st_size);
}

Result<std::string> Store::read_blob(const Digest& d, size_t max_size) const {
  UniqueFd fd = TRY(open_blob(d));
  std::string bytes = TRY_CTX(read_fd(fd.get(), max_size), "blob " + d.str());
  if (sha256_of(bytes) != d)
    return make_error(ErrorCode::corrupt, "blob " + d.str() + " is corrupt: its content does not match its digest");
  return bytes;
}

Result<BlobWriter> Store::new_blob() const { return BlobWriter::create(tmp_dir(), blobs_dir()); }

Result<BlobInfo> Store::put_blob(std::string_view bytes, const std::optional<Digest>& expected) {
  auto w = TRY(new_blob());
  TRY(w.write(bytes.data(), bytes.size()));
  return w.commit(expected, -1);
}

Result<std::vector<IndexEntry>> Store::list() const {
  std::string text = TRY(read_file(m_root + "/index.json"));
  std::vector<IndexEntry> out;
  try {
    auto j = parse_json(text);
    for (const auto& m : j.value("manifests", nlohmann::json::array())) {
      IndexEntry e;
      e.media_type = m.value("mediaType", "");
      e.digest = TRY(Digest::parse(m.at("digest").get<std::string>()));
      e.size = json_uint(m, "size", std::nullopt);
      if (m.contains("annotations")) e.ref = m["annotations"].value(kRefAnnotation, "");
      out.push_back(std::move(e));
    }
  } catch (const nlohmann::json::exception& ex) {
    return make_error(ErrorCode::corrupt, m_root + "/index.json is malformed: " + ex.what());
  }
  return out;
}

Status Store::write_index(const std::vector<IndexEntry>& entries) {
  nlohmann::json manifests = nlohmann::json::array();
  for (const auto& e : entries) {
    nlohmann::json m = {{"mediaType", e.media_type}, {"digest", e.digest.str()}, {"size", e.size}};
    if (!e.ref.empty()) m["annotations"] = {{kRefAnnotation, e.ref}};
    manifests.push_back(std::move(m));
  }
  nlohmann::json j = {{"schemaVersion", 2},
                      {"mediaType", "application/vnd.oci.image.index.v1+json"},
                      {"manifests", std::move(manifests)}};
  return write_file_atomic(m_root + "/index.json", json_text(j));
}

Status Store::update_index(const std::function<Status(std::vector<IndexEntry>&)>& fn) {
  auto lock = TRY(FileLock::acquire(private_dir() + "/index.lock", FileLock::Mode::exclusive));
  auto entries = TRY(list());
  TRY(fn(entries));
  return write_index(entries);
}

Status Store::set_tag(const std::string& ref, const std::string& media_type, const BlobInfo& manifest) {
  return update_index([&](std::vector<IndexEntry>& entries) -> Status {
    std::erase_if(entries, [&](const IndexEntry& e) {
      return (!ref.empty() && e.ref == ref) || (e.ref.empty() && e.digest == manifest.digest);
    });
    if (ref.empty()) {
      // An untagged entry is only needed when no tag already keeps the manifest.
      for (const auto& e : entries)
        if (e.digest == manifest.digest) return {};
    }
    entries.push_back(IndexEntry{media_type, manifest.digest, manifest.size, ref});
    return {};
  });
}

Status Store::remove_tag(const std::string& ref) {
  return update_index([&](std::vector<IndexEntry>& entries) -> Status {
    auto n = std::erase_if(entries, [&](const IndexEntry& e) { return e.ref == ref; });
    if (n == 0) return make_error(ErrorCode::not_found, "no such image: " + ref);
    return {};
  });
}

Status Store::remove_untagged(const Digest& manifest) {
  return update_index([&](std::vector<IndexEntry>& entries) -> Status {
    std::erase_if(entries, [&](const IndexEntry& e) { return e.ref.empty() && e.digest == manifest; });
    return {};
  });
}

Result<FileLock> Store::writer_lock() const {
  return FileLock::acquire(private_dir() + "/gc.lock", FileLock::Mode::shared);
}

Result<FileLock> Store::gc_lock() const {
  return FileLock::acquire(private_dir() + "/gc.lock", FileLock::Mode::exclusive);
}

}  // namespace kiln::cas
