// ADD sources.
#include "builder/add_source.h"

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <memory>

#include "common/fd.h"

namespace kiln::builder {

bool is_local_archive(const std::string& path) {
  std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) return false;
  struct archive_entry* e;
  return archive_read_next_header(a.get(), &e) == ARCHIVE_OK;
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

namespace {
struct Sink {
  int fd;
  cas::Sha256 h;
  bool failed = false;
};
size_t on_data(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  size_t len = size * n;
  s->h.update(data, len);
  if (!write_all(s->fd, data, len)) {
    s->failed = true;
    return 0;
  }
  return len;
}
}  // namespace

Result<cas::Digest> fetch_url(const std::string& url, const std::string& dest_file, const std::optional<std::string>& checksum) {
  std::optional<cas::Digest> want;
  if (checksum) want = TRY_CTX(cas::Digest::parse(*checksum), "ADD --checksum");
  UniqueFd fd = TRY(open_fd(dest_file, O_WRONLY | O_CREAT | O_TRUNC, 0600));
  std::unique_ptr<CURL, void (*)(CURL*)> c(curl_easy_init(), curl_easy_cleanup);
  if (!c) return make_error(ErrorCode::generic, "curl_easy_init failed");
  Sink sink{fd.get(), {}};
  char err[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c.get(), CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c.get(), CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c.get(), CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(c.get(), CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(c.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  CURLcode rc = curl_easy_perform(c.get());
  if (rc != CURLE_OK)
    return make_error(ErrorCode::io, "ADD " + url + ": download failed: " + (err[0] ? err : curl_easy_strerror(rc)));
  cas::Digest got = sink.h.finish();
  if (want && *want != got)
    return make_error(ErrorCode::corrupt, "ADD " + url + ": checksum mismatch: expected " + want->str() + ", got " + got.str());
  return got;
}

}  // namespace kiln::builder
