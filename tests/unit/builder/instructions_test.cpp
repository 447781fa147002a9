// Tests for builder/instructions: every instruction typed once, its flags checked before anything runs.
#include "builder/instructions.h"

#include <gtest/gtest.h>

#include "builder/stage.h"

namespace kiln::builder {
namespace {

/// The command of the second instruction of "FROM scratch\n" + line, or its error text.
Result<Command> typed(const std::string& line) {
  static std::vector<Buildfile> keep;  // the Step points into its Buildfile
  keep.push_back(*parse_buildfile("FROM scratch\n" + line + "\n", "B"));
  return parse_command(keep.back().instructions.at(1), "B:2");
}
std::string error_of(const std::string& line) {
  auto c = typed(line);
  return c ? std::string() : c.error().what();
}

TEST(Instructions, CopyAndAddFlags) {
  auto c = typed("COPY --from=build --chown=app:app --chmod=0644 --link --parents --exclude=*.md --exclude=x a /b/");
  ASSERT_TRUE(c.ok()) << c.error().what();
  const auto& copy = std::get<CopyCmd>(*c);
  EXPECT_FALSE(copy.add);
  EXPECT_EQ(copy.from, "build");
  EXPECT_EQ(copy.chown, "app:app");
  EXPECT_EQ(copy.chmod, "0644");
  EXPECT_TRUE(copy.link);
  EXPECT_TRUE(copy.parents);
  EXPECT_EQ(copy.excludes, (std::vector<std::string>{"*.md", "x"}));
  EXPECT_FALSE(std::get<CopyCmd>(*typed("COPY --link=false a /b")).link);
  auto add = typed("ADD --checksum=sha256:00 --keep-git-dir=true https://x/y /y");
  ASSERT_TRUE(add.ok()) << add.error().what();
  EXPECT_TRUE(std::get<CopyCmd>(*add).add);
  EXPECT_TRUE(std::get<CopyCmd>(*add).keep_git_dir);
  EXPECT_EQ(std::get<CopyCmd>(*add).checksum, "sha256:00");
}

TEST(Instructions, BadFlagsAreLineErrors) {
  EXPECT_NE(error_of("COPY --chwon=1 a /a").find("B:2: unknown flag --chwon for COPY (it takes --from"), std::string::npos);
  EXPECT_NE(error_of("ADD --from=x a /a").find("unknown flag --from for ADD"), std::string::npos);
  EXPECT_NE(error_of("COPY --checksum=sha256:0 a /a").find("unknown flag --checksum"), std::string::npos);
  EXPECT_NE(error_of("COPY --from a /a").find("--from needs a value"), std::string::npos);
  EXPECT_NE(error_of("COPY --from=a --from=b x /a").find("--from is given twice"), std::string::npos);
  EXPECT_NE(error_of("COPY --link=yes a /a").find("takes true or false"), std::string::npos);
  EXPECT_NE(error_of("RUN --nope true").find("unknown flag --nope for RUN"), std::string::npos);
  EXPECT_NE(error_of("RUN --network=bridge true").find("must be default, none or host"), std::string::npos);
  EXPECT_NE(error_of("RUN --mount=type=nfs,target=/x true").find("type must be"), std::string::npos);
  EXPECT_TRUE(typed("RUN --mount=type=$T,target=/x true").ok());  // checked once expanded
  EXPECT_NE(error_of("FROM --platfrom=linux/amd64 scratch").find("unknown flag --platfrom for FROM"), std::string::npos);
  EXPECT_NE(error_of("SHELL /bin/bash -c").find("JSON form"), std::string::npos);
  EXPECT_NE(error_of("ONBUILD FROM x").find("ONBUILD FROM is not allowed"), std::string::npos);
}

TEST(Instructions, RunFlags) {
  auto c = typed("RUN --mount=type=cache,target=/c --mount=type=tmpfs,target=/t --network=none make");
  ASSERT_TRUE(c.ok()) << c.error().what();
  EXPECT_EQ(std::get<RunCmd>(*c).mounts.size(), 2u);
  EXPECT_EQ(std::get<RunCmd>(*c).network, "none");
}

TEST(Instructions, Healthcheck) {
  auto c = typed("HEALTHCHECK --interval=1m30s --timeout=5s --retries=3 CMD [\"/bin/check\", \"-q\"]");
  ASSERT_TRUE(c.ok()) << c.error().what();
  const auto& hc = std::get<HealthcheckCmd>(*c).check;
  EXPECT_EQ(hc.test, (std::vector<std::string>{"CMD", "/bin/check", "-q"}));
  EXPECT_EQ(hc.interval, 90000000000);
  EXPECT_EQ(hc.timeout, 5000000000);
  EXPECT_EQ(hc.retries, 3);
  EXPECT_EQ(std::get<HealthcheckCmd>(*typed("HEALTHCHECK CMD [not json")).check.test,
            (std::vector<std::string>{"CMD-SHELL", "[not json"}));
  EXPECT_EQ(std::get<HealthcheckCmd>(*typed("HEALTHCHECK NONE")).check.test, (std::vector<std::string>{"NONE"}));
  EXPECT_NE(error_of("HEALTHCHECK NONE x").find("takes no arguments"), std::string::npos);
  EXPECT_NE(error_of("HEALTHCHECK --interval=10x CMD true").find("invalid duration"), std::string::npos);
  EXPECT_NE(error_of("HEALTHCHECK --interval=10us CMD true").find("minimum, 1ms"), std::string::npos);
  EXPECT_NE(error_of("HEALTHCHECK --retries=-1 CMD true").find("at least 1"), std::string::npos);
  EXPECT_NE(error_of("HEALTHCHECK --retries=0 CMD true").find("at least 1"), std::string::npos);
  EXPECT_NE(error_of("HEALTHCHECK --interval=0s CMD true").find("minimum, 1ms"), std::string::npos);
  EXPECT_NE(error_of("HEALTHCHECK --tries=1 CMD true").find("unknown flag --tries"), std::string::npos);
}

TEST(Instructions, PlanStagesTypesEveryInstructionFirst) {
  // A bad flag in a stage the target does not need still fails the plan, before anything runs (BuildKit).
  Vars g;
  auto bf = *parse_buildfile("FROM scratch AS unused\nCOPY --bogus a /a\nFROM scratch\nRUN true\n", "B");
  auto s = plan_stages(bf, {}, g);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().what().find("B:2: unknown flag --bogus"), std::string::npos);
  auto ok = *parse_buildfile("FROM scratch\nCOPY --from=0 a /a\nRUN --mount=from=0,target=/m true\n", "B");
  auto planned = plan_stages(ok, {}, g);
  ASSERT_FALSE(planned.ok());  // --from=0 is the stage itself
  EXPECT_NE(planned.error().what().find("cycle"), std::string::npos);
}

}  // namespace
}  // namespace kiln::builder
