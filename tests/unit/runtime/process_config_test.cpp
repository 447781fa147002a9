// Tests for runtime/process_config: docker's entrypoint/cmd override rules, env merging, env files.
#include "runtime/process_config.h"

#include <gtest/gtest.h>

namespace kiln::runtime {
namespace {

oci::RunConfig image(std::optional<std::vector<std::string>> ep, std::optional<std::vector<std::string>> cmd) {
  oci::RunConfig rc;
  rc.entrypoint = ep;
  rc.cmd = cmd;
  return rc;
}

using V = std::vector<std::string>;

TEST(ResolveArgs, DockerOverrideRules) {
  auto img = image(V{"/entry", "-x"}, V{"default"});
  EXPECT_EQ(*resolve_args(img, {}), (V{"/entry", "-x", "default"}));
  ProcessOverrides trailing;
  trailing.cmd = {"mine"};
  EXPECT_EQ(*resolve_args(img, trailing), (V{"/entry", "-x", "mine"}));
  ProcessOverrides ep;
  ep.entrypoint = "/other";
  EXPECT_EQ(*resolve_args(img, ep), (V{"/other"}));  // the image's Cmd is dropped with --entrypoint
  ep.cmd = {"a", "b"};
  EXPECT_EQ(*resolve_args(img, ep), (V{"/other", "a", "b"}));
  ProcessOverrides cleared;
  cleared.entrypoint = "";
  cleared.cmd = {"sh"};
  EXPECT_EQ(*resolve_args(img, cleared), (V{"sh"}));
  auto none = resolve_args(image(std::nullopt, std::nullopt), {});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().what().find("no command"), std::string::npos);
}

TEST(ResolveEnv, ImageThenOverridesWithDefaultPath) {
  oci::RunConfig rc;
  rc.env = {"A=1", "B=2"};
  auto env = resolve_env(rc, {"B=3", "C=4=5"});
  EXPECT_EQ(get_env(env, "A"), "1");
  EXPECT_EQ(get_env(env, "B"), "3");
  EXPECT_EQ(get_env(env, "C"), "4=5");
  EXPECT_EQ(get_env(env, "PATH"), std::string(kDefaultPath));
  ::setenv("KILN_TEST_FROM_HOST", "h", 1);
  env = resolve_env(rc, {"KILN_TEST_FROM_HOST", "KILN_TEST_UNSET_XYZ"});
  EXPECT_EQ(get_env(env, "KILN_TEST_FROM_HOST"), "h");
  EXPECT_FALSE(get_env(env, "KILN_TEST_UNSET_XYZ"));
}

TEST(EnvFile, ParsesAndNamesBadLines) {
  auto env = parse_env_file("# comment\n\nA=1\nB = x\nC\n", "f.env");
  ASSERT_FALSE(env.ok());  // "B " has a space in the name
  EXPECT_NE(env.error().what().find("f.env:4"), std::string::npos) << env.error().what();
  env = parse_env_file("# c\nA=1\n  B=two words\nC\n", "f.env");
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(*env, (V{"A=1", "B=two words", "C"}));
}

}  // namespace
}  // namespace kiln::runtime
