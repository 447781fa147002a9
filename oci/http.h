// HTTP for the registry client, over libcurl: one request at a time, bodies from bytes or an fd, responses
// into a string or a sink. Custom Authorization headers are never sent to another host on a redirect.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace kiln::oci {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  ///< "Name: value"
  std::optional<std::string> body;   ///< bytes to send
  int body_fd = -1;                  ///< or a file to stream: body_size bytes from body_offset
  int64_t body_offset = 0;           ///< (the caller seeks there before each attempt)
  int64_t body_size = 0;
  std::function<void(size_t)> on_sent;  ///< bytes of the body handed to the connection (progress)
  bool follow = true;
  bool verify_tls = true;
  std::string ca_dir;  ///< extra CA certificates (certs.d/HOST)
  /// A body kept in HttpResponse::body (no sink, or an error status) longer than this aborts the transfer
  /// while it streams: a server that sends without end costs neither memory nor time.
  size_t max_body = 8u << 20;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  ///< lower-case names; last value wins
  std::string body;                            ///< unless a sink took it
};

/// Data sink for large bodies; return false to abort.
using BodySink = std::function<bool(const char* data, size_t len)>;

/// Perform a request. Transport failures (DNS, refused, TLS, reset) are errors; HTTP statuses are not.
Result<HttpResponse> http_do(const HttpRequest& req, const BodySink& sink = {});

}  // namespace kiln::oci
