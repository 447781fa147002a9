// A client for one registry host over the OCI distribution API: scheme choice, the auth challenge
// (anonymous, Basic, Bearer tokens cached per scope), retries of transient failures.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "oci/credentials.h"
#include "oci/http.h"

namespace kiln::oci {

struct RegistryOptions {
  std::optional<bool> tls_verify;          ///< unset: verify, except plain HTTP for localhost/127.0.0.1
  std::string cert_dir;                    ///< extra CAs; default /etc/containers/certs.d/HOST
  std::optional<Credentials> credentials;  ///< overrides the auth files (login)
};

class Registry {
 public:
  Registry(std::string host, RegistryOptions opts);
  const std::string& host() const { return m_host; }
  /// scheme://host
  std::string base() {
    std::lock_guard<std::mutex> lk(m_mu);
    return m_scheme + "://" + m_host;
  }
  /// A request to path (or absolute URL) with auth for scope "repository:REPO:ACTIONS" (repo empty: none),
  /// plus pull on also_pull (the source of a cross-repository mount).
  Result<HttpResponse> call(HttpRequest req, const std::string& repo, const std::string& actions,
                            const BodySink& sink = {}, const std::string& also_pull = "");
  /// GET /v2/: checks that the registry answers and the credentials are accepted.
  Status ping();

 private:
  Result<std::string> token_for(const std::string& challenge, const std::string& scope);
  /// Where plain HTTP is allowed, one bare GET /v2/ over it first: a registry that answers it (200 or 401)
  /// speaks plain HTTP, and no TLS handshake is tried (it costs tens of ms, its CA store loaded each time).
  void probe_plain_http();
  bool m_probed = false;
  std::mutex m_probe_mu;  ///< the first request of every thread waits for the one probe
  std::string m_host, m_scheme;
  bool m_http_fallback = false;  ///< local registry: HTTPS first, plain HTTP if it does not speak TLS
  RegistryOptions m_opts;
  std::optional<Credentials> m_creds;
  std::map<std::string, std::string> m_tokens;  ///< scope → "Bearer …" or "Basic …"
  std::mutex m_mu;  ///< guards m_tokens and the scheme: blobs are transferred on several threads
};

/// Registry error text from a response ("401 UNAUTHORIZED: authentication required").
std::string registry_error(const HttpResponse& r);
/// The first error code of a registry's error body ("MANIFEST_UNKNOWN"), "" when it has none.
std::string registry_error_code(const HttpResponse& r);

}  // namespace kiln::oci
