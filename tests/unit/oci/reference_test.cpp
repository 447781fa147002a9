// Tests for oci/reference: docker grammar and normalization, valid and invalid tables.
#include "oci/reference.h"

#include <gtest/gtest.h>

namespace kiln::oci {
namespace {

TEST(Reference, NormalizesLikeDocker) {
  const std::pair<const char*, const char*> cases[] = {
      {"debian", "docker.io/library/debian:latest"},
      {"debian:bookworm", "docker.io/library/debian:bookworm"},
      {"library/debian", "docker.io/library/debian:latest"},
      {"user/app:1.0", "docker.io/user/app:1.0"},
      {"index.docker.io/user/app", "docker.io/user/app:latest"},
      {"localhost/app:1.0", "localhost/app:1.0"},
      {"localhost:5000/ns/app", "localhost:5000/ns/app:latest"},
      {"127.0.0.1:5000/a/b/c:v_1.2-3", "127.0.0.1:5000/a/b/c:v_1.2-3"},
      {"quay.io/org/img@sha256:"
       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
       "quay.io/org/img@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
      {"a.b/c:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
       "a.b/c:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
      {"my-reg.example.com/x__y/z.w", "my-reg.example.com/x__y/z.w:latest"},
      {"Example.COM/img", "Example.COM/img:latest"},
      {"a--b/c-d_e.f", "docker.io/a--b/c-d_e.f:latest"},
      {"x-1.example:443/a0/b:_", "x-1.example:443/a0/b:_"},
      {"r.io/a/b:"
       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
       "aaaaaaaaaaaaaaaa",
       "r.io/a/"
       "b:"
       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
       "aaaaaaaaaaaaaaaa"},
  };
  for (const auto& [in, want] : cases) {
    auto r = Reference::parse(in);
    ASSERT_TRUE(r.ok()) << in << ": " << r.error().what();
    EXPECT_EQ(r->str(), want) << in;
  }
}

TEST(Reference, Parts) {
  auto r = *Reference::parse("localhost:5000/ns/app:2");
  EXPECT_EQ(r.domain, "localhost:5000");
  EXPECT_EQ(r.path, "ns/app");
  EXPECT_EQ(r.tag, "2");
  EXPECT_EQ(r.repository(), "localhost:5000/ns/app");
}

TEST(Reference, RejectsInvalidWithReason) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "empty"},
      {"Debian", "lowercase"},
      {"app:", "tag"},
      {"app:-x", "tag"},
      {"app:"
       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
       "aaaaaaaaaaaaaaaaaa",
       "tag"},
      {"app@sha256:abc", "digest"},
      {"app@md5:abc", "sha256"},
      {"a//b", "path component"},
      {"a/b/", "path component"},
      {"-a/b", "path component"},
      {"a..b", "path component"},
      {"localhost/", "empty"},
      {"host:port/x", "registry host"},
      {"host:/x", "registry host"},
      {"-host.io/x", "registry host"},
      {"host-.io/x", "registry host"},
      {"a..io/x", "registry host"},
      {"x-1.example:443/a0/_b:_", "path component"},
      {"a___b", "path component"},
      {"a_-b", "path component"},
      {"a.-b", "path component"},
      {"a.", "path component"},
      {"a-", "path component"},
      {"app:.x", "tag"},
      {"app:a/b", "registry host"},
  };
  for (const auto& [in, why] : cases) {
    auto r = Reference::parse(in);
    ASSERT_FALSE(r.ok()) << in << " parsed as " << r->str();
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument) << in;
    EXPECT_NE(r.error().what().find(why), std::string::npos) << in << ": " << r.error().what();
    EXPECT_NE(r.error().what().find("invalid reference"), std::string::npos);
  }
}

TEST(Reference, LooksLikeId) {
  EXPECT_TRUE(looks_like_id("0123456789ab"));
  EXPECT_TRUE(looks_like_id("sha256:0123456789abcdef"));
  EXPECT_FALSE(looks_like_id("0123456789a"));
  EXPECT_FALSE(looks_like_id("debian"));
}

}  // namespace
}  // namespace kiln::oci
