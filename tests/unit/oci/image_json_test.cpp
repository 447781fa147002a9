// Tests for oci/image_json: round trips of manifest/index/config, Healthcheck, malformed input.
#include <gtest/gtest.h>

#include "oci/image.h"
#include "oci/media_types.h"

namespace kiln::oci {
namespace {

cas::Digest d(const char* s) { return cas::sha256_of(s); }

TEST(ImageJson, ManifestRoundTrip) {
  Manifest m;
  m.media_type = media::oci_manifest;
  m.config = Descriptor{media::oci_config, d("c"), 10, {}, std::nullopt};
  m.layers.push_back(Descriptor{media::oci_layer_gzip, d("l"), 20, {{"k", "v"}}, std::nullopt});
  std::string bytes = to_json(m);
  auto back = parse_manifest(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->config.digest, d("c"));
  EXPECT_EQ(back->layers.at(0).size, 20u);
  EXPECT_EQ(back->layers.at(0).annotations.at("k"), "v");
  EXPECT_EQ(to_json(*back), bytes);  // canonical: stable bytes
  EXPECT_EQ(*sniff_media_type(bytes), media::oci_manifest);
}

TEST(ImageJson, ConfigRoundTripKeepsDockerFields) {
  ImageConfig c;
  c.created = "2026-01-02T03:04:05Z";
  c.config.env = {"PATH=/bin"};
  c.config.entrypoint = std::vector<std::string>{"/bin/sh", "-c"};
  c.config.cmd = std::vector<std::string>{"echo hi"};
  c.config.working_dir = "/app";
  c.config.user = "1000:1000";
  c.config.labels = {{"a", "b"}};
  c.config.exposed_ports = {"80/tcp"};
  c.config.volumes = {"/data"};
  c.config.stop_signal = "SIGINT";
  c.config.on_build = {"RUN true"};
  c.config.healthcheck = Healthcheck{{"CMD", "true"}, 30000000000, 5000000000, 0, 0, 3};
  c.diff_ids = {d("x")};
  c.history = {HistoryEntry{c.created, "COPY . /", "", false}, HistoryEntry{c.created, "ENV", "", true}};
  std::string bytes = to_json(c);
  EXPECT_NE(bytes.find("\"Healthcheck\":{\"Interval\":30000000000,\"Retries\":3,\"Test\":[\"CMD\",\"true\"],"
                       "\"Timeout\":5000000000}"),
            std::string::npos)
      << bytes;
  auto back = parse_config(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(to_json(*back), bytes);
  EXPECT_TRUE(back->history[1].empty_layer);
  EXPECT_EQ(back->config.healthcheck->retries, 3);
}

TEST(ImageJson, MalformedIsCorrupt) {
  for (const char* bad :
       {"", "{", "[]", "{\"schemaVersion\":2}", "{\"schemaVersion\":2,\"config\":{\"digest\":\"x\",\"size\":1}}"}) {
    auto r = parse_manifest(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  EXPECT_EQ(parse_manifest("{\"schemaVersion\":1}").error().code, ErrorCode::unsupported);
  EXPECT_FALSE(parse_config("{\"rootfs\":{\"diff_ids\":[\"nope\"]}}").ok());
}

TEST(ImageJson, Rfc3339) {
  EXPECT_EQ(rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(parse_rfc3339("2026-11-27T13:08:07Z"), parse_rfc3339("2026-11-27T14:08:07.123+01:00"));
  EXPECT_EQ(parse_rfc3339(rfc3339(1700000000)), 1700000000);
  EXPECT_EQ(parse_rfc3339("garbage"), -1);
}

}  // namespace
}  // namespace kiln::oci
