// Content digests and streaming SHA-256.
#include "cas/digest.h"

// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, yet kept and maintained; EVP's
// implicit fetch loads openssl.cnf and the default provider first, which dominates a short kiln command.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

namespace kiln::cas {

bool is_sha256_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Result<Digest> Digest::parse(std::string_view s) {
  constexpr std::string_view prefix = "sha256:";
  if (s.substr(0, prefix.size()) != prefix) {
    auto colon = s.find(':');
    if (colon != std::string_view::npos)
      return make_error(ErrorCode::unsupported,
                        "digest algorithm \"" + std::string(s.substr(0, colon)) + "\" is not supported (only sha256)");
    return make_error(ErrorCode::invalid_argument,
                      "invalid digest \"" + std::string(s) + "\": expected sha256:<64 hex>");
  }
  std::string_view hex = s.substr(prefix.size());
  if (!is_sha256_hex(hex))
    return make_error(ErrorCode::invalid_argument,
                      "invalid digest \"" + std::string(s) + "\": expected sha256:<64 hex>");
  return Digest(std::string(hex));
}

Sha256::Sha256() : m_ctx(new SHA256_CTX, [](SHA256_CTX* c) { delete c; }) { SHA256_Init(m_ctx.get()); }

void Sha256::update(const void* data, size_t len) {
  SHA256_Update(m_ctx.get(), data, len);
  m_bytes += len;
}

Digest Sha256::finish() {
  unsigned char md[SHA256_DIGEST_LENGTH];
  unsigned int len = SHA256_DIGEST_LENGTH;
  SHA256_Final(md, m_ctx.get());
  static const char* hexd = "0123456789abcdef";
  std::string hex(len * 2, '0');
  for (unsigned i = 0; i < len; ++i) {
    hex[2 * i] = hexd[md[i] >> 4];
    hex[2 * i + 1] = hexd[md[i] & 15];
  }
  return Digest::from_hex(std::move(hex));
}

Digest sha256_of(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.finish();
}

}  // namespace kiln::cas
