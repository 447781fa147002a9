// Tests for builder/stage: stage planning, targets, cycles, metadata instructions.
#include "builder/stage.h"

#include <gtest/gtest.h>

namespace kiln::builder {
namespace {

Buildfile parse(const std::string& t) { return *parse_buildfile(t, "B"); }
/// apply_metadata of an instruction, typed first as the build types it.
Result<std::string> apply(const Instruction& ins, StageState& st, const Vars& build_args = {},
                          const Vars& globals = {}) {
  Step s{&ins, TRY(parse_command(ins, "B"))};
  return TRY(apply_metadata(s, st, build_args, globals, '\\', "B")).canon;
}

TEST(Stages, OnlyWhatTheTargetNeeds) {
  auto bf =
      parse("ARG V=1\nFROM scratch AS a\nFROM scratch AS unused\nFROM img:${V} AS b\nCOPY --from=a /x /x\nFROM b\n");
  Vars globals;
  auto stages = plan_stages(bf, {}, globals);
  ASSERT_TRUE(stages.ok()) << stages.error().what();
  EXPECT_EQ((*stages)[2].base, "img:1");
  EXPECT_EQ(*stages_for(*stages, "", "B"), (std::vector<size_t>{0, 2, 3}));
  EXPECT_EQ(*stages_for(*stages, "unused", "B"), (std::vector<size_t>{1}));
  EXPECT_FALSE(stages_for(*stages, "nope", "B").ok());
  Vars g2;
  auto with_arg = plan_stages(bf, {{"V", "2"}}, g2);
  EXPECT_EQ((*with_arg)[2].base, "img:2");
}

// BuildKit's stage names: as written (no variable), lowercased, a letter then letters, digits, '-', '_', '.'.
TEST(Stages, NamesAreCheckedAsWritten) {
  Vars g;
  auto ok = plan_stages(parse("FROM scratch AS My-Build.stage_1\n"), {}, g);
  ASSERT_TRUE(ok.ok()) << ok.error().what();
  EXPECT_EQ((*ok)[0].name, "my-build.stage_1");
  for (const char* bad : {"FROM scratch AS 1st\n", "ARG N=x\nFROM scratch AS ${N}\n", "FROM scratch AS a/b\n"}) {
    auto r = plan_stages(parse(bad), {}, g);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().what().find("invalid stage name"), std::string::npos) << r.error().what();
  }
}

TEST(Stages, CyclesAndDuplicates) {
  Vars g;
  // A --from naming a later stage is a dependency, as BuildKit takes it; the later stage is built first.
  auto fwd = plan_stages(parse("FROM scratch AS a\nCOPY --from=b /x /x\nFROM scratch AS b\n"), {}, g);
  ASSERT_TRUE(fwd.ok()) << fwd.error().what();
  EXPECT_EQ(*stages_for(*fwd, "a", "Buildfile"), (std::vector<size_t>{1, 0}));
  auto cyc =
      plan_stages(parse("FROM scratch AS a\nCOPY --from=b /x /x\nFROM scratch AS b\nCOPY --from=a /y /y\n"), {}, g);
  ASSERT_FALSE(cyc.ok());
  EXPECT_NE(cyc.error().what().find("cycle"), std::string::npos);
  EXPECT_FALSE(plan_stages(parse("FROM scratch AS a\nCOPY --from=a /x /x\n"), {}, g).ok());
  EXPECT_FALSE(plan_stages(parse("FROM scratch AS a\nFROM scratch AS a\n"), {}, g).ok());
  EXPECT_FALSE(plan_stages(parse("FROM a AS a\n"), {}, g).ok());
}

TEST(Metadata, EnvCmdEntrypointHealthcheck) {
  auto bf = parse(
      "FROM scratch\nENV A=1 B=\"${A} 2\"\nCMD echo hi\nENTRYPOINT [\"/e\"]\nHEALTHCHECK --interval=1m30s --retries=2 "
      "CMD curl -f x\nSTOPSIGNAL SIGINT\nONBUILD COPY . /app\n");
  StageState st;
  st.config.config.cmd = std::vector<std::string>{"inherited"};
  for (size_t i = 1; i < bf.instructions.size(); ++i) {
    if (bf.instructions[i].keyword == "CMD") {
      ASSERT_TRUE(apply(bf.instructions[i], st).ok());
      EXPECT_EQ(*st.config.config.cmd, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
      continue;
    }
    auto r = apply(bf.instructions[i], st);
    ASSERT_TRUE(r.ok()) << r.error().what();
  }
  // Docker expands a whole ENV line with the values from before it.
  EXPECT_EQ(st.config.config.env, (std::vector<std::string>{"A=1", "B= 2"}));
  EXPECT_TRUE(st.config.config.cmd.has_value());  // CMD set in this stage survives ENTRYPOINT
  EXPECT_EQ(st.config.config.healthcheck->interval, 90000000000);
  EXPECT_EQ(st.config.config.healthcheck->test, (std::vector<std::string>{"CMD-SHELL", "curl -f x"}));
  EXPECT_EQ(st.config.config.stop_signal, "SIGINT");
  EXPECT_EQ(st.config.config.on_build, (std::vector<std::string>{"COPY . /app"}));
  StageState st2;
  st2.config.config.cmd = std::vector<std::string>{"inherited"};
  ASSERT_TRUE(apply(parse("FROM scratch\nENTRYPOINT [\"/e\"]\n").instructions[1], st2).ok());
  EXPECT_FALSE(st2.config.config.cmd.has_value());  // an inherited CMD is reset
}

TEST(Metadata, ArgScoping) {
  StageState st;
  auto bf = parse("FROM scratch\nARG G\nARG L=local\nARG B=default\n");
  Vars globals = {{"G", "global"}};
  for (size_t i = 1; i < bf.instructions.size(); ++i)
    ASSERT_TRUE(apply(bf.instructions[i], st, {{"B", "from-cli"}}, globals).ok());
  EXPECT_EQ(st.args["G"], "global");
  EXPECT_EQ(st.args["L"], "local");
  EXPECT_EQ(st.args["B"], "from-cli");
}

}  // namespace
}  // namespace kiln::builder
