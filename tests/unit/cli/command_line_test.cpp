#include "cli/command.h"

#include <gtest/gtest.h>

namespace kiln::cli {
namespace {

// A command shaped like run: -e and --name take a value, -i, -t and --rm do not.
FlagKind kind(const std::string& name) {
  if (in_name_list("-e,--env,--name", ',', name)) return FlagKind::value;
  if (in_name_list("-i,-t,--rm", ',', name)) return FlagKind::flag;
  return FlagKind::unknown;
}

TargetSplit split(std::vector<std::string> args) { return split_at_target(kind, args); }

TEST(CommandLine, TargetAfterFlagsAndTheirValues) {
  EXPECT_EQ(split({"img", "echo", "hi"}).target, 0u);
  EXPECT_EQ(split({"-e", "A=1", "img", "cmd"}).target, 2u);          // -e's value is not the image
  EXPECT_EQ(split({"--env=A=1", "--rm", "img"}).target, 2u);         // --flag=value is one argument
  EXPECT_EQ(split({"--name", "x", "-it", "img", "sh"}).target, 3u);  // a cluster of switches
  EXPECT_EQ(split({"-eA=1", "img"}).target, 1u);                     // the value glued to a short flag
  EXPECT_EQ(split({"-ie", "A=1", "img"}).target, 2u);                // a cluster ending in a valued flag
}

TEST(CommandLine, DashDashEndsTheFlagsBeforeTheTargetOnly) {
  auto s = split({"-e", "A=1", "--", "img", "--", "x"});
  EXPECT_TRUE(s.dash_dash);
  EXPECT_EQ(s.target, 3u);  // the second "--" belongs to the command
  s = split({"img", "--", "x"});
  EXPECT_FALSE(s.dash_dash);
  EXPECT_EQ(s.target, 0u);
  EXPECT_EQ(split({"--"}).target, 1u);  // nothing after it: no target
}

TEST(CommandLine, UnknownFlagBeforeTheTargetOnly) {
  EXPECT_EQ(split({"--bogus", "img"}).unknown, "--bogus");
  EXPECT_EQ(split({"--bogus=1", "img"}).unknown, "--bogus");
  EXPECT_EQ(split({"-ix", "img"}).unknown, "-x");
  EXPECT_EQ(split({"img", "--bogus"}).unknown, "");
  EXPECT_EQ(split({"-e"}).target, 1u);  // a value still missing: no target, CLI11 reports it
}

TEST(CommandLine, NameLists) {
  EXPECT_TRUE(in_name_list("-e,--env", ',', "--env"));
  EXPECT_TRUE(in_name_list("-e,--env", ',', "-e"));
  EXPECT_FALSE(in_name_list("-e,--env", ',', "--en"));
  EXPECT_FALSE(in_name_list("-e,--env", ',', "-e,--env"));
  EXPECT_TRUE(in_name_list("-p --publish", ' ', "--publish"));
}

TEST(CommandLine, DockerFlagsKilnLacksSayWhatToDo) {
  EXPECT_NE(unknown_flag_message("--expose").find("-p"), std::string::npos);
  EXPECT_NE(unknown_flag_message("--privileged").find("--cap-add"), std::string::npos);
  EXPECT_EQ(unknown_flag_message("--bogus"), "unknown flag: --bogus");
}

}  // namespace
}  // namespace kiln::cli
