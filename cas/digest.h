// Content digests ("sha256:<64 hex>") and a streaming SHA-256 over OpenSSL EVP.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

struct SHA256state_st;  // OpenSSL's SHA256_CTX

namespace kiln::cas {

/// A validated "sha256:<hex>" digest.
class Digest {
 public:
  Digest() = default;
  /// Parse and validate "sha256:" followed by 64 lowercase hex characters.
  static Result<Digest> parse(std::string_view s);
  static Digest from_hex(std::string hex) { return Digest(std::move(hex)); }
  const std::string& hex() const { return m_hex; }
  std::string str() const { return "sha256:" + m_hex; }
  bool empty() const { return m_hex.empty(); }
  bool operator==(const Digest& o) const { return m_hex == o.m_hex; }
  bool operator!=(const Digest& o) const { return m_hex != o.m_hex; }
  bool operator<(const Digest& o) const { return m_hex < o.m_hex; }

 private:
  explicit Digest(std::string hex) : m_hex(std::move(hex)) {}
  std::string m_hex;
};

/// Incremental SHA-256 over OpenSSL's SHA256_* functions: the same SHA-NI/AVX2 code as EVP, without
/// EVP's provider and config initialisation (~5 M instructions, paid by every kiln process; bench/run).
class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t len);
  void update(std::string_view s) { update(s.data(), s.size()); }
  /// Finish and return the digest; the hasher must not be used afterwards.
  Digest finish();
  uint64_t bytes() const { return m_bytes; }

 private:
  std::unique_ptr<::SHA256state_st, void (*)(::SHA256state_st*)> m_ctx;
  uint64_t m_bytes = 0;
};

/// SHA-256 of a byte string.
Digest sha256_of(std::string_view data);
/// True when s is 64 lowercase hex characters.
bool is_sha256_hex(std::string_view s);

}  // namespace kiln::cas
