// Tests for runtime/options: -v, --mount, --tmpfs, --ulimit, sizes, and refused targets.
#include "runtime/options.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace kiln::runtime {
namespace {

TEST(Options, Volumes) {
  auto v = parse_volume("/host/dir:/data:ro");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->source, "/host/dir");
  EXPECT_EQ(v->target, "/data");
  EXPECT_TRUE(v->readonly);
  EXPECT_FALSE(parse_volume("/h:/c")->readonly);
  for (const char* bad : {"named:/data", "/h", "/h:rel", "/h:/c:bogus", "/h:/proc/x", "/h:/sys", "/h:/a/../b", "/h:/"})
    EXPECT_FALSE(parse_volume(bad).ok()) << bad;
}

TEST(Options, MountAndTmpfs) {
  auto m = parse_mount("type=bind,source=/src,target=/dst,readonly");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->type, MountSpec::Type::bind);
  EXPECT_TRUE(m->readonly);
  auto t = parse_mount("type=tmpfs,target=/scratch,tmpfs-size=1m");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->options, "size=1m");
  EXPECT_FALSE(parse_mount("type=volume,target=/x").ok());
  EXPECT_FALSE(parse_mount("type=bind,target=/x,wat=1").ok());
  auto tf = parse_tmpfs("/run:size=64k,mode=1777");
  ASSERT_TRUE(tf.ok());
  EXPECT_EQ(tf->target, "/run");
  EXPECT_EQ(tf->options, "size=64k,mode=1777");
  EXPECT_FALSE(parse_tmpfs("/proc/self").ok());
  EXPECT_FALSE(parse_tmpfs("/x:evil=1").ok());
  // docker's flag words become flags; only tmpfs data reaches the kernel.
  auto flags = parse_tmpfs("/cache:rw,noexec,nosuid,size=1m,nodev");
  ASSERT_TRUE(flags.ok());
  EXPECT_TRUE(flags->noexec);
  EXPECT_FALSE(flags->readonly);
  EXPECT_EQ(flags->options, "size=1m");
  auto ro = parse_tmpfs("/ro:ro,exec");
  ASSERT_TRUE(ro.ok());
  EXPECT_TRUE(ro->readonly);
  EXPECT_FALSE(ro->noexec);
  EXPECT_EQ(ro->options, "");
}

TEST(Options, UlimitsAndSizes) {
  auto u = parse_ulimit("nofile=100:200");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->resource, RLIMIT_NOFILE);
  EXPECT_EQ(u->soft, 100u);
  EXPECT_EQ(u->hard, 200u);
  EXPECT_EQ(parse_ulimit("nproc=5")->hard, 5u);
  EXPECT_FALSE(parse_ulimit("nofile=200:100").ok());
  EXPECT_FALSE(parse_ulimit("bogus=1").ok());
  EXPECT_FALSE(parse_ulimit("nofile=x").ok());
  EXPECT_EQ(*parse_bytes("64m"), 64 << 20);
  EXPECT_EQ(*parse_bytes("1g"), 1ll << 30);
  EXPECT_EQ(*parse_bytes("512"), 512);
  EXPECT_FALSE(parse_bytes("lots").ok());
  EXPECT_FALSE(parse_bytes("5q").ok());
}

TEST(Options, AddHostAndDns) {
  EXPECT_EQ(*parse_add_host("db:10.0.0.5"), "10.0.0.5\tdb");
  EXPECT_EQ(*parse_add_host("db=10.0.0.5"), "10.0.0.5\tdb");
  EXPECT_EQ(*parse_add_host("v6:2001:db8::33"), "2001:db8::33\tv6");  // split at the first colon, as docker
  EXPECT_EQ(*parse_add_host("v6=[::1]"), "::1\tv6");
  EXPECT_FALSE(parse_add_host("db").ok());
  EXPECT_FALSE(parse_add_host(":10.0.0.5").ok());
  EXPECT_FALSE(parse_add_host("db:notanip").ok());
  EXPECT_FALSE(parse_add_host("a b:10.0.0.5").ok());  // would add a second name to the line
  EXPECT_FALSE(parse_add_host("db:10.0.0.5\n1.2.3.4 evil").ok());
  EXPECT_EQ(*parse_dns_server("9.9.9.9"), "9.9.9.9");
  EXPECT_EQ(*parse_dns_server("2620:fe::fe"), "2620:fe::fe");
  EXPECT_FALSE(parse_dns_server("dns.example").ok());
  EXPECT_FALSE(parse_dns_server("9.9.9.9\nnameserver 6.6.6.6").ok());
  EXPECT_EQ(*parse_dns_search("corp.example"), "corp.example");
  EXPECT_FALSE(parse_dns_search("").ok());
  EXPECT_FALSE(parse_dns_search("a.example\nnameserver 6.6.6.6").ok());  // would add a line
  EXPECT_FALSE(parse_dns_search("a.example b.example").ok());            // one domain a flag, as docker
}

}  // namespace
}  // namespace kiln::runtime
