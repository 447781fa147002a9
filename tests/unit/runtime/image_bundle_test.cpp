#include "runtime/image_bundle.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

namespace kiln::runtime {
namespace {

using json = nlohmann::json;

const char* kPasswd = "root:x:0:0:root:/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n";
const char* kGroup = "root:x:0:\nbob:x:1000:\nstaff:x:50:bob\n";

json convert(const oci::ImageConfig& c) {
  auto text = image_bundle_config(c, kPasswd, kGroup);
  EXPECT_TRUE(text.ok()) << (text.ok() ? "" : text.error().message);
  return text.ok() ? json::parse(*text) : json();
}

TEST(ImageBundle, TheConversionsFields) {
  oci::ImageConfig c;
  c.author = "me";
  c.created = "2026-12-07T00:00:00Z";
  c.config.entrypoint = std::vector<std::string>{"/bin/app", "--flag"};
  c.config.cmd = std::vector<std::string>{"serve"};
  c.config.working_dir = "/srv";
  c.config.env = {"A=1", "HOME=/custom"};
  c.config.user = "bob";
  c.config.stop_signal = "SIGQUIT";
  c.config.exposed_ports = {"443/tcp", "53/udp"};
  c.config.labels = {{"org.opencontainers.image.author", "label wins"}, {"x", "y"}};
  json j = convert(c);
  EXPECT_EQ(j["process"]["args"], json({"/bin/app", "--flag", "serve"}));
  EXPECT_EQ(j["process"]["cwd"], "/srv");
  EXPECT_EQ(j["process"]["env"], json({"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=1",
                                       "HOME=/custom"}));  // PATH added, HOME kept
  EXPECT_EQ(j["process"]["user"], json({{"uid", 1000}, {"gid", 1000}, {"additionalGids", {50}}}));
  EXPECT_EQ(j["process"]["capabilities"]["effective"], json::array());  // not root: no effective capabilities
  EXPECT_FALSE(j["process"]["capabilities"]["bounding"].empty());
  EXPECT_EQ(j["process"]["terminal"], false);
  EXPECT_EQ(j["root"]["readonly"], true);
  const json& a = j["annotations"];
  EXPECT_EQ(a["org.opencontainers.image.author"], "label wins");
  EXPECT_EQ(a["org.opencontainers.image.created"], "2026-12-07T00:00:00Z");
  EXPECT_EQ(a["org.opencontainers.image.stopSignal"], "SIGQUIT");
  EXPECT_EQ(a["org.opencontainers.image.exposedPorts"], "443/tcp,53/udp");
  EXPECT_EQ(a["org.opencontainers.image.os"], "linux");
  EXPECT_EQ(a["x"], "y");
  EXPECT_FALSE(a.contains("org.opencontainers.image.variant"));  // empty fields are left out
}

TEST(ImageBundle, RootGetsItsCapabilitiesAndTheDefaults) {
  oci::ImageConfig c;
  c.config.cmd = std::vector<std::string>{"sh"};
  json j = convert(c);
  EXPECT_EQ(j["process"]["args"], json({"sh"}));
  EXPECT_EQ(j["process"]["cwd"], "/");
  EXPECT_EQ(j["process"]["user"], json({{"uid", 0}, {"gid", 0}}));
  EXPECT_EQ(j["process"]["env"].back(), "HOME=/root");
  EXPECT_EQ(j["process"]["capabilities"]["effective"], j["process"]["capabilities"]["bounding"]);
  EXPECT_NE(std::find(j["process"]["capabilities"]["bounding"].begin(), j["process"]["capabilities"]["bounding"].end(),
                      "CAP_CHOWN"),
            j["process"]["capabilities"]["bounding"].end());
}

TEST(ImageBundle, NothingToRunOrAnUnknownUserIsAnError) {
  oci::ImageConfig c;
  EXPECT_FALSE(image_bundle_config(c, kPasswd, kGroup).ok());
  c.config.cmd = std::vector<std::string>{};
  EXPECT_FALSE(image_bundle_config(c, kPasswd, kGroup).ok());
  c.config.cmd = std::vector<std::string>{"true"};
  c.config.user = "nobody";
  auto r = image_bundle_config(c, kPasswd, kGroup);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("unable to find user nobody"), std::string::npos) << r.error().message;
  c.config.user = "4321:staff";  // a numeric user with a named group: the group's ID, no others
  auto n = image_bundle_config(c, "", kGroup);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(json::parse(*n)["process"]["user"], json({{"uid", 4321}, {"gid", 50}}));
}

TEST(ImageBundle, BytesThatAreNotUtf8AreReplacedNotThrown) {
  oci::ImageConfig c;
  c.config.cmd = std::vector<std::string>{"run\xff"};
  c.config.labels = {{"k", "v\xfe"}};
  auto r = image_bundle_config(c, "root:x:0:0::/ho\xffme:/bin/sh\n", "");
  ASSERT_TRUE(r.ok());
  json j = json::parse(*r);
  EXPECT_EQ(j["process"]["args"][0], "run\xef\xbf\xbd");
  EXPECT_EQ(j["process"]["env"].back(), "HOME=/ho\xef\xbf\xbdme");
  EXPECT_EQ(j["annotations"]["k"], "v\xef\xbf\xbd");
}

}  // namespace
}  // namespace kiln::runtime
