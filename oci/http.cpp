// libcurl transport.
#include "oci/http.h"

#include <dirent.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <memory>

#include "oci/curl_lib.h"

namespace kiln::oci {

namespace {

struct Ctx {
  HttpResponse* resp;
  const BodySink* sink;
  const HttpRequest* req;
  size_t sent = 0;
  bool too_long = false;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* c = static_cast<Ctx*>(user);
  size_t len = size * n;
  if (c->sink && *c->sink && c->resp->status >= 200 && c->resp->status < 300) return (*c->sink)(data, len) ? len : 0;
  if (c->resp->body.size() + len > c->req->max_body) {
    c->too_long = true;
    return 0;  // curl stops reading: CURLE_WRITE_ERROR
  }
  c->resp->body.append(data, len);
  return len;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* c = static_cast<Ctx*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after a redirect or 100-continue): start over.
    c->resp->headers.clear();
    auto sp = line.find(' ');
    c->resp->status = sp == std::string::npos ? 0 : std::strtol(line.c_str() + sp + 1, nullptr, 10);
    return size * n;
  }
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
    c->resp->headers[name] = value;
  }
  return size * n;
}

size_t on_read(char* buf, size_t size, size_t n, void* user) {
  auto* c = static_cast<Ctx*>(user);
  size_t want = size * n;
  if (c->req->body) {
    size_t left = c->req->body->size() - c->sent;
    size_t take = std::min(left, want);
    std::memcpy(buf, c->req->body->data() + c->sent, take);
    c->sent += take;
    return take;
  }
  size_t left = static_cast<size_t>(c->req->body_size) - c->sent;
  ssize_t r = ::read(c->req->body_fd, buf, std::min(want, left));
  if (r < 0) return CURL_READFUNC_ABORT;
  c->sent += static_cast<size_t>(r);
  if (c->req->on_sent) c->req->on_sent(static_cast<size_t>(r));
  return static_cast<size_t>(r);
}

/// "host:port" of a URL, the scheme's port when it names none.
std::string host_port(const std::string& url) {
  size_t start = url.find("://");
  std::string scheme = start == std::string::npos ? "https" : url.substr(0, start);
  start = start == std::string::npos ? 0 : start + 3;
  std::string hp = url.substr(start, url.find_first_of("/?#", start) - start);
  if (auto at = hp.rfind('@'); at != std::string::npos) hp.erase(0, at + 1);
  bool has_port = hp.find(':', hp.rfind(']') == std::string::npos ? 0 : hp.rfind(']')) != std::string::npos;
  return has_port ? hp : hp + (scheme == "http" ? ":80" : ":443");
}

/// A transport failure in a registry user's words: what could not be done with which host, the system's
/// reason where there is one; curl's own text only for what has no better name.
Error transport_error(CURLcode rc, long os_errno, const HttpRequest& req, const std::string& curl_text) {
  std::string hp = host_port(req.url);
  std::string host = hp.substr(0, hp.rfind(':'));
  auto reason = [&](const char* fallback) {
    std::string r = os_errno > 0 ? std::strerror(static_cast<int>(os_errno)) : fallback;
    if (!r.empty()) r[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(r[0])));
    return r;
  };
  Error e = make_error(ErrorCode::io, "");
  e.sys_errno = static_cast<int>(os_errno);
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
      e.message = "cannot resolve host " + host + " (no such name in DNS, or no DNS)";
      break;
    case CURLE_COULDNT_CONNECT:
      e.message = "cannot connect to " + hp + " (" + reason("connection failed") + ")";
      break;
    case CURLE_OPERATION_TIMEDOUT:
      e.message = "no answer from " + hp + " in time (" + curl_text + ")";
      break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
      // "certificate" stays in the text: a certificate problem is never a reason to fall back to plain HTTP.
      e.message = "TLS with " + hp + " failed (" + curl_text + ")";
      break;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      e.message = "the connection to " + hp + " broke during " + req.method + " (" + reason(curl_text.c_str()) + ")";
      break;
    default:
      e.message = req.method + " " + req.url + ": " + curl_text;
  }
  return e;
}

}  // namespace

Result<HttpResponse> http_do(const HttpRequest& req, const BodySink& sink) {
  const CurlLib& curl = *TRY(curl_lib());
  std::unique_ptr<CURL, void (*)(CURL*)> c(curl.easy_init(), curl.easy_cleanup);
  if (!c) return make_error(ErrorCode::generic, "curl_easy_init failed");
  HttpResponse resp;
  Ctx ctx{&resp, &sink, &req};
  char err[CURL_ERROR_SIZE] = {};
  struct curl_slist* hdrs = nullptr;
  for (const auto& h : req.headers) hdrs = curl.slist_append(hdrs, h.c_str());
  bool has_body = req.body || req.body_fd >= 0;
  if (has_body) hdrs = curl.slist_append(hdrs, "Expect:");
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> hold(hdrs, curl.slist_free_all);
  curl.easy_setopt(c.get(), CURLOPT_URL, req.url.c_str());
  curl.easy_setopt(c.get(), CURLOPT_CUSTOMREQUEST, req.method.c_str());
  if (req.method == "HEAD") curl.easy_setopt(c.get(), CURLOPT_NOBODY, 1L);
  curl.easy_setopt(c.get(), CURLOPT_HTTPHEADER, hdrs);
  curl.easy_setopt(c.get(), CURLOPT_FOLLOWLOCATION, req.follow ? 1L : 0L);
  curl.easy_setopt(c.get(), CURLOPT_MAXREDIRS, 10L);
  curl.easy_setopt(c.get(), CURLOPT_UNRESTRICTED_AUTH, 0L);
  curl.easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, on_body);
  curl.easy_setopt(c.get(), CURLOPT_WRITEDATA, &ctx);
  curl.easy_setopt(c.get(), CURLOPT_HEADERFUNCTION, on_header);
  curl.easy_setopt(c.get(), CURLOPT_HEADERDATA, &ctx);
  curl.easy_setopt(c.get(), CURLOPT_ERRORBUFFER, err);
  curl.easy_setopt(c.get(), CURLOPT_CONNECTTIMEOUT, 30L);
  curl.easy_setopt(c.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl.easy_setopt(c.get(), CURLOPT_LOW_SPEED_TIME, 60L);
  curl.easy_setopt(c.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl.easy_setopt(c.get(), CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  // Large buffers: layers are tens of megabytes, and loopback registries are limited by per-call overhead.
  curl.easy_setopt(c.get(), CURLOPT_BUFFERSIZE, 512L * 1024);
  curl.easy_setopt(c.get(), CURLOPT_UPLOAD_BUFFERSIZE, 2L * 1024 * 1024);
  if (!req.verify_tls) {
    curl.easy_setopt(c.get(), CURLOPT_SSL_VERIFYPEER, 0L);
    curl.easy_setopt(c.get(), CURLOPT_SSL_VERIFYHOST, 0L);
  }
  std::string ca_bundle;
  if (!req.ca_dir.empty()) {
    // certs.d/HOST holds *.crt files (podman's layout): use them as the trusted roots, beside the system's.
    if (DIR* d = ::opendir(req.ca_dir.c_str())) {
      while (struct dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n.size() > 4 && n.compare(n.size() - 4, 4, ".crt") == 0 && n != "client.crt") {
          ca_bundle = req.ca_dir + "/" + n;
          if (n == "ca.crt") break;
        }
      }
      ::closedir(d);
    }
    if (!ca_bundle.empty()) curl.easy_setopt(c.get(), CURLOPT_CAINFO, ca_bundle.c_str());
  }
  if (has_body) {
    curl.easy_setopt(c.get(), CURLOPT_UPLOAD, 1L);
    curl.easy_setopt(c.get(), CURLOPT_READFUNCTION, on_read);
    curl.easy_setopt(c.get(), CURLOPT_READDATA, &ctx);
    curl_off_t size = req.body ? static_cast<curl_off_t>(req.body->size()) : static_cast<curl_off_t>(req.body_size);
    curl.easy_setopt(c.get(), CURLOPT_INFILESIZE_LARGE, size);
  }
  CURLcode rc = curl.easy_perform(c.get());
  if (rc != CURLE_OK) {
    if (rc == CURLE_WRITE_ERROR && ctx.too_long)
      return make_error(ErrorCode::corrupt, req.method + " " + req.url + ": the response is larger than " +
                                                std::to_string(req.max_body) + " bytes: refused");
    if (rc == CURLE_WRITE_ERROR && sink)
      return make_error(ErrorCode::io, req.method + " " + req.url + ": aborted while storing the body");
    long os_errno = 0;
    curl.easy_getinfo(c.get(), CURLINFO_OS_ERRNO, &os_errno);
    return transport_error(rc, os_errno, req, err[0] ? err : curl.easy_strerror(rc));
  }
  return resp;
}

}  // namespace kiln::oci
