// Tests for runtime/publish: docker's -p forms, -P from EXPOSE, and the ps text.
#include "runtime/publish.h"

#include <gtest/gtest.h>

namespace kiln::runtime {
namespace {

TEST(Publish, DockersForms) {
  auto one = *parse_publish("80");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].host_port, 0);
  EXPECT_EQ(one[0].container_port, 80);
  EXPECT_EQ(one[0].proto, "tcp");
  EXPECT_EQ(one[0].host_ip, "");
  auto hc = *parse_publish("8080:80/udp");
  EXPECT_EQ(hc[0].host_port, 8080);
  EXPECT_EQ(hc[0].proto, "udp");
  auto ip = *parse_publish("127.0.0.1:8080:80");
  EXPECT_EQ(ip[0].host_ip, "127.0.0.1");
  EXPECT_EQ(ip[0].host_port, 8080);
  auto any = *parse_publish("127.0.0.1::80");
  EXPECT_EQ(any[0].host_port, 0);
  auto v6 = *parse_publish("[::1]:8080:80");
  EXPECT_EQ(v6[0].host_ip, "::1");
  auto range = *parse_publish("8000-8002:90-92");
  ASSERT_EQ(range.size(), 3u);
  EXPECT_EQ(range[2].host_port, 8002);
  EXPECT_EQ(range[2].container_port, 92);
  EXPECT_EQ(ports_text(ip), "127.0.0.1:8080->80/tcp");
  EXPECT_EQ(ports_text(v6), "[::1]:8080->80/tcp");
}

TEST(Publish, BadSpecsAreOneLine) {
  for (const char* bad : {"", "abc", "0", "65536", "99999:80", "80/sctp", "1:2:3:4", "8000-8001:80", "1.2.3:80:80",
                          "[::1", "80-70", ":80:"}) {
    auto r = parse_publish(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().what().find("invalid -p"), std::string::npos) << r.error().what();
    EXPECT_EQ(r.error().what().find('\n'), std::string::npos);
  }
}

TEST(Publish, AllExposedPorts) {
  auto all = *publish_all({"80/tcp", "53/udp"});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].container_port, 53);
  EXPECT_EQ(all[1].proto, "udp");
  EXPECT_EQ(all[0].host_port, 0);  // chosen when the container starts
  ASSERT_TRUE(choose_host_ports(all).ok());
  EXPECT_NE(all[0].host_port, 0);
  EXPECT_NE(all[1].host_port, 0);
}

}  // namespace
}  // namespace kiln::runtime
