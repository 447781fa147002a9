// Registry client.
#include "oci/registry.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "common/fd.h"
#include "common/json.h"
#include "common/log.h"
#include "common/number.h"

namespace kiln::oci {

namespace {

bool is_local(const std::string& host) {
  std::string h =
      host.substr(0, host.rfind(':') == std::string::npos || host[0] == '[' ? host.size() : host.rfind(':'));
  return h == "localhost" || h == "127.0.0.1" || h == "[::1]" || h.rfind("127.", 0) == 0;
}

std::map<std::string, std::string> parse_challenge(const std::string& header, std::string& scheme) {
  std::map<std::string, std::string> out;
  auto sp = header.find(' ');
  scheme = header.substr(0, sp);
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t i = sp == std::string::npos ? header.size() : sp + 1;
  while (i < header.size()) {
    while (i < header.size() && (header[i] == ' ' || header[i] == ',')) ++i;
    size_t eq = header.find('=', i);
    if (eq == std::string::npos) break;
    std::string key = header.substr(i, eq - i);
    std::string value;
    i = eq + 1;
    if (i < header.size() && header[i] == '"') {
      size_t end = header.find('"', i + 1);
      value = header.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1);
      i = end == std::string::npos ? header.size() : end + 1;
    } else {
      size_t end = header.find(',', i);
      value = header.substr(i, end == std::string::npos ? std::string::npos : end - i);
      i = end == std::string::npos ? header.size() : end;
    }
    out[key] = value;
  }
  return out;
}

std::string urlencode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out += static_cast<char>(c);
    else {
      char buf[4];
      snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

namespace {

/// The first entry of a registry's error body ({"errors": [{"code", "message"}]}), if it has one.
std::optional<std::pair<std::string, std::string>> first_error(const HttpResponse& r) {
  try {
    auto j = parse_json(r.body);  // kept: a range-for over a member of a temporary would outlive it
    for (const auto& e : j.at("errors"))
      return std::pair{e.value("code", std::string()), e.value("message", std::string())};
  } catch (...) {
  }
  return std::nullopt;
}

}  // namespace

std::string registry_error_code(const HttpResponse& r) {
  auto e = first_error(r);
  return e ? e->first : "";
}

std::string registry_error(const HttpResponse& r) {
  std::string msg = std::to_string(r.status);
  if (auto e = first_error(r)) msg += " " + e->first + ": " + e->second;
  return msg;
}

Registry::Registry(std::string host, RegistryOptions opts) : m_host(std::move(host)), m_opts(std::move(opts)) {
  if (m_host == "docker.io") m_host = "registry-1.docker.io";
  m_scheme = "https";
  // Like docker and podman for insecure registries: localhost (or --tls-verify=false) tries HTTPS first and
  // falls back to plain HTTP when the server does not speak TLS. A certificate problem is never a reason.
  m_http_fallback = (is_local(m_host) && !m_opts.tls_verify.has_value()) || m_opts.tls_verify == false;
  m_creds = m_opts.credentials ? m_opts.credentials
                               : find_credentials(m_host == "registry-1.docker.io" ? "docker.io" : m_host);
  if (m_opts.cert_dir.empty()) {
    std::string d = "/etc/containers/certs.d/" + m_host;
    if (path_exists(d)) m_opts.cert_dir = d;
  }
}

Result<std::string> Registry::token_for(const std::string& challenge, const std::string& scope) {
  std::string scheme;
  auto params = parse_challenge(challenge, scheme);
  if (scheme == "basic") {
    if (!m_creds)
      return make_error(ErrorCode::invalid_argument, m_host + " requires authentication: run kiln login " + m_host);
    return "Basic " + base64_encode(m_creds->username + ":" + m_creds->password);
  }
  if (scheme != "bearer") return make_error(ErrorCode::unsupported, m_host + ": unsupported auth scheme " + scheme);
  std::string url = params["realm"];
  if (url.empty()) return make_error(ErrorCode::corrupt, m_host + ": Bearer challenge without a realm");
  url += (url.find('?') == std::string::npos ? "?" : "&") + std::string("service=") + urlencode(params["service"]);
  // Several scopes (a cross-repository mount also needs pull on the source) are several parameters.
  for (size_t i = 0; i < scope.size();) {
    size_t sp = scope.find(' ', i);
    std::string one = scope.substr(i, sp == std::string::npos ? std::string::npos : sp - i);
    if (!one.empty()) url += "&scope=" + urlencode(one);
    i = sp == std::string::npos ? scope.size() : sp + 1;
  }
  HttpRequest req;
  req.url = url;
  req.verify_tls = m_opts.tls_verify.value_or(true);
  req.ca_dir = m_opts.cert_dir;
  if (m_creds)
    req.headers.push_back("Authorization: Basic " + base64_encode(m_creds->username + ":" + m_creds->password));
  auto r = TRY(http_do(req));
  if (r.status == 401 || r.status == 403)
    return make_error(ErrorCode::invalid_argument,
                      m_host + ": the token server refused the credentials (" + registry_error(r) + ")");
  if (r.status != 200) return make_error(ErrorCode::io, m_host + ": token request failed: " + registry_error(r));
  try {
    auto j = parse_json(r.body);
    std::string t = j.value("token", j.value("access_token", std::string()));
    if (t.empty()) return make_error(ErrorCode::corrupt, m_host + ": the token server returned no token");
    return "Bearer " + t;
  } catch (const nlohmann::json::exception&) {
    return make_error(ErrorCode::corrupt, m_host + ": the token server returned malformed JSON");
  }
}

void Registry::probe_plain_http() {
  std::lock_guard<std::mutex> once(m_probe_mu);
  if (m_probed) return;
  m_probed = true;
  {
    std::lock_guard<std::mutex> lk(m_mu);
    if (!m_http_fallback || m_scheme != "https") return;
  }
  HttpRequest probe;  // no credentials: they never go over plain HTTP unasked
  probe.url = "http://" + m_host + "/v2/";
  probe.max_body = 64u << 10;
  probe.follow = false;
  auto r = http_do(probe);
  // A TLS server answers plain HTTP with 400 (Go's, nginx's), a registry /v2/ with 200 or 401.
  if (r && (r->status == 200 || r->status == 401)) {
    std::lock_guard<std::mutex> lk(m_mu);
    m_scheme = "http";
    m_http_fallback = false;
  }
  log::debug("registry: " + m_host + (r && (r->status == 200 || r->status == 401) ? " speaks" : " does not speak") +
             " plain HTTP");
}

Result<HttpResponse> Registry::call(HttpRequest req, const std::string& repo, const std::string& actions,
                                    const BodySink& sink, const std::string& also_pull) {
  probe_plain_http();  // once per registry; the others wait for it
  if (req.url.rfind("http", 0) != 0) req.url = base() + req.url;
  req.verify_tls = m_opts.tls_verify.value_or(true);
  req.ca_dir = m_opts.cert_dir;
  std::string scope = repo.empty() ? "" : "repository:" + repo + ":" + actions;
  if (!also_pull.empty()) scope += " repository:" + also_pull + ":pull";
  bool retried_auth = false;
  auto started = std::chrono::steady_clock::now();
  for (int attempt = 0;; ++attempt) {
    HttpRequest r = req;
    {
      std::lock_guard<std::mutex> lk(m_mu);
      if (auto it = m_tokens.find(scope); it != m_tokens.end()) r.headers.push_back("Authorization: " + it->second);
    }
    if (r.body_fd >= 0) ::lseek(r.body_fd, r.body_offset, SEEK_SET);
    auto sent = std::chrono::steady_clock::now();
    auto resp = http_do(r, sink);
    if (log::enabled(log::Level::debug))
      log::debug(
          "registry: " + r.method + " " + r.url + ": " + (resp ? std::to_string(resp->status) : resp.error().what()) +
          " in " +
          std::to_string(
              std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent).count()) +
          " ms");
    std::string https_base = "https://" + m_host;
    if (!resp && req.url.rfind(https_base, 0) == 0 && resp.error().what().find("certificate") == std::string::npos) {
      std::unique_lock<std::mutex> lk(m_mu);
      if (m_http_fallback || m_scheme == "http") {
        m_scheme = "http";
        m_http_fallback = false;
        lk.unlock();
        req.url = base() + req.url.substr(https_base.size());
        --attempt;
        continue;
      }
    }
    bool transient =
        (!resp && resp.error().code != ErrorCode::corrupt) || (resp && (resp->status >= 500 || resp->status == 429));
    if (transient && attempt < 3 && !sink) {
      int delay_ms = 200 << attempt;
      if (resp && resp->headers.count("retry-after"))
        delay_ms = std::max<int>(delay_ms,
                                 static_cast<int>(parse_uint(resp->headers["retry-after"], 3600).value_or(0) * 1000));
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(delay_ms, 10000)));
      continue;
    }
    if (!resp) {
      Error e = std::move(resp).error();
      if (attempt > 0) {  // the retries counted, so "cannot connect" is not read as one unlucky try
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        char took[32];
        std::snprintf(took, sizeof took, "%.1f", static_cast<double>(ms.count()) / 1000);
        e.message += " after " + std::to_string(attempt + 1) + " attempts in " + took + " s";
      }
      return e;
    }
    if (resp->status == 401 && !retried_auth && resp->headers.count("www-authenticate")) {
      retried_auth = true;
      std::string token = TRY(token_for(resp->headers["www-authenticate"], scope));
      std::lock_guard<std::mutex> lk(m_mu);
      m_tokens[scope] = token;
      continue;
    }
    return resp;
  }
}

Status Registry::ping() {
  HttpRequest req;
  req.url = "/v2/";
  auto r = TRY(call(req, "", ""));
  if (r.status == 401)
    return make_error(ErrorCode::invalid_argument, m_host + ": login failed: wrong username or password");
  if (r.status != 200) return make_error(ErrorCode::io, m_host + ": /v2/ answered " + registry_error(r));
  return {};
}

}  // namespace kiln::oci
