// ADD sources.
#include "builder/add_source.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "common/fd.h"
#include "oci/extract.h"
#include "oci/http.h"
#include "oci/tar_check.h"

namespace kiln::builder {

bool is_local_archive(const std::string& path) {
  std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) return false;
  struct archive_entry* e;
  return archive_read_next_header(a.get(), &e) == ARCHIVE_OK;
}

Result<std::string> tar_readable_by_kiln(const std::string& path, const std::string& tmp_file) {
  std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK)
    return make_error(ErrorCode::corrupt, path + ": " + oci::archive_error_text(a.get()));
  struct archive_entry* e;
  if (archive_read_next_header(a.get(), &e) != ARCHIVE_OK)
    return make_error(ErrorCode::corrupt, path + ": " + oci::archive_error_text(a.get()));
  int filter = archive_filter_code(a.get(), 0);
  if (filter == ARCHIVE_FILTER_NONE || filter == ARCHIVE_FILTER_GZIP || filter == ARCHIVE_FILTER_ZSTD) return path;
  UniqueFd out = TRY(open_fd(tmp_file, O_WRONLY | O_CREAT | O_TRUNC, 0600));
  char buf[1 << 16];
  for (;;) {
    la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
    if (n < 0) return make_error(ErrorCode::corrupt, path + ": " + oci::archive_error_text(a.get()));
    if (n == 0) break;
    TRY(write_all(out.get(), buf, static_cast<size_t>(n)));
  }
  return tmp_file;
}

namespace {
/// A matched name as a literal source again (plan_copy reads wildcards and backslashes in sources).
std::string literal(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}
}  // namespace

Result<std::optional<CopyRequest>> split_local_archives(CopyRequest& req, const std::string& dir,
                                                        const std::string& label) {
  char root[PATH_MAX];
  if (!::realpath(req.src_root.c_str(), root)) return std::optional<CopyRequest>{};
  auto is_archive = [&](const std::string& m, std::string& real_out) {
    char real[PATH_MAX];
    struct stat st;
    std::string path = std::string(root) + "/" + m;
    if (!::realpath(path.c_str(), real) || std::string(real).rfind(std::string(root) + "/", 0) != 0) return false;
    if (::stat(real, &st) < 0 || !S_ISREG(st.st_mode) || !is_local_archive(real)) return false;
    if (req.ignore && req.ignore->excluded(m)) return false;
    real_out = real;
    return true;
  };
  // Each source (each match of a wildcard) on its own: an archive is extracted, anything else is copied.
  std::vector<std::string> archives, others;
  for (const auto& src : req.sources) {
    auto matches = TRY(source_matches(root, src));
    std::vector<std::string> plain;
    size_t before = archives.size();
    for (const auto& m : matches) {
      std::string real;
      if (is_archive(m, real))
        archives.push_back(real);
      else if (!req.ignore || !req.ignore->excluded(m))  // a wildcard's ignored matches are not sources
        plain.push_back(literal(m));
    }
    if (archives.size() == before)
      others.push_back(src);  // as written: plan_copy reports a missing name, a wildcard may match nothing
    else
      others.insert(others.end(), plain.begin(), plain.end());
  }
  if (archives.empty()) return std::optional<CopyRequest>{};
  TRY(make_dirs(dir));
  for (size_t i = 0; i < archives.size(); ++i) {
    std::string readable = TRY(tar_readable_by_kiln(archives[i], dir + ".tar-" + std::to_string(i)));
    UniqueFd fd = TRY(open_fd(readable, O_RDONLY));
    // Whiteouts stay whiteouts (overlay form): the layer then deletes what they name in the destination, as
    // BuildKit's unpacking onto the destination does.
    oci::ExtractOptions xo{oci::Whiteouts::overlay, label + archives[i].substr(std::strlen(root) + 1), std::nullopt,
                           std::nullopt};
    TRY(oci::extract_tar(fd.get(), dir, xo));
    if (readable != archives[i]) ::unlink(readable.c_str());
  }
  CopyRequest extracted = req;
  extracted.src_root = dir;
  extracted.sources = {"."};
  extracted.ignore = nullptr;
  extracted.keep_owners = true;  // the archive's owners, as BuildKit keeps them
  extracted.whiteouts = true;
  if (extracted.dest.back() != '/') extracted.dest += '/';
  req.sources = others;
  return std::optional<CopyRequest>{std::move(extracted)};
}

std::string url_basename(const std::string& url) {
  std::string p = url.substr(0, url.find_first_of("?#"));
  auto scheme = p.find("://");
  if (scheme != std::string::npos) p = p.substr(scheme + 3);
  auto slash = p.find('/');
  p = slash == std::string::npos ? "" : p.substr(slash);
  while (!p.empty() && p.back() == '/') p.pop_back();
  auto last = p.rfind('/');
  std::string name = last == std::string::npos ? p : p.substr(last + 1);
  return name.empty() ? "download" : name;
}

Result<cas::Digest> fetch_url(const std::string& url, const std::string& dest_file,
                              const std::optional<std::string>& checksum) {
  std::optional<cas::Digest> want;
  if (checksum) want = TRY_CTX(cas::Digest::parse(*checksum), "ADD --checksum");
  UniqueFd fd = TRY(open_fd(dest_file, O_WRONLY | O_CREAT | O_TRUNC, 0600));
  cas::Sha256 h;
  bool write_failed = false;
  oci::HttpRequest req;
  req.url = url;
  auto resp = oci::http_do(req, [&](const char* data, size_t len) {
    h.update(data, len);
    write_failed = !write_all(fd.get(), data, len);
    return !write_failed;
  });
  if (!resp) return std::move(resp).error().context("ADD " + url + ": download failed");
  if (write_failed)
    return make_error(ErrorCode::io, "ADD " + url + ": write " + dest_file + ": " + std::strerror(errno));
  if (resp->status < 200 || resp->status >= 300)
    return make_error(ErrorCode::io, "ADD " + url + ": download failed: HTTP " + std::to_string(resp->status));
  cas::Digest got = h.finish();
  if (want && *want != got)
    return make_error(ErrorCode::corrupt,
                      "ADD " + url + ": checksum mismatch: expected " + want->str() + ", got " + got.str());
  return got;
}

}  // namespace kiln::builder
