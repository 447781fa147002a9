// Tests for builder/run_step: the argv of a RUN step, heredoc scripts as BuildKit runs them.
#include "builder/run_step.h"

#include <gtest/gtest.h>

#include "builder/buildfile.h"

namespace kiln::builder {
namespace {

Instruction run_of(const std::string& text) {
  auto bf = parse_buildfile("FROM scratch\n" + text, "B");
  EXPECT_TRUE(bf.ok()) << bf.error().what();
  return bf->instructions.at(1);
}

const std::vector<std::string> kShell = {"/bin/sh", "-c"};

TEST(RunArgv, HeredocAloneIsTheShellsScript) {
  std::string script = "left over";
  auto argv = run_argv(run_of("RUN <<-EOF\n\techo one\n\tEOF\n"), kShell, script);
  EXPECT_EQ(argv, (std::vector<std::string>{"/bin/sh", "-c", "echo one\n"}));
  EXPECT_EQ(script, "");  // no file to bind
}

TEST(RunArgv, AQuotedNameWithASpaceIsStillALoneHeredoc) {
  std::string script;
  auto argv = run_argv(run_of("RUN <<\"my doc\" \necho hi\nmy doc\n"), kShell, script);
  EXPECT_EQ(argv, (std::vector<std::string>{"/bin/sh", "-c", "echo hi\n"}));
  EXPECT_FALSE(is_lone_heredoc("<<A cat"));
  EXPECT_FALSE(is_lone_heredoc("<<A <<B"));
  EXPECT_TRUE(is_lone_heredoc("3<<-'E O F'"));
}

TEST(RunArgv, ShebangHeredocIsAFileUnderDevPipesRunByTheShell) {
  std::string script;
  auto argv = run_argv(run_of("RUN <<tool.py\n#!/usr/bin/python3\nprint(1)\ntool.py\n"), kShell, script);
  EXPECT_EQ(argv, (std::vector<std::string>{"/bin/sh", "-c", "/dev/pipes/tool.py"}));
  EXPECT_EQ(script, "#!/usr/bin/python3\nprint(1)\n");
}

TEST(RunArgv, HeredocAfterACommandGoesBackToTheShell) {
  std::string script;
  auto argv = run_argv(run_of("RUN cat <<A > /f\none\nA\n"), kShell, script);
  EXPECT_EQ(argv, (std::vector<std::string>{"/bin/sh", "-c", "cat <<A > /f\none\nA"}));
  EXPECT_EQ(script, "");
  EXPECT_EQ(run_argv(run_of("RUN [\"echo\", \"<<A\"]\n"), kShell, script), (std::vector<std::string>{"echo", "<<A"}));
}

TEST(RunArgv, ScriptPathIsOneComponentUnderDevPipes) {
  EXPECT_EQ(script_in_container("EOF"), "/dev/pipes/EOF");
  EXPECT_EQ(script_in_container("a/b"), "/dev/pipes/script");
  EXPECT_EQ(script_in_container(".."), "/dev/pipes/script");
  EXPECT_EQ(script_in_container(""), "/dev/pipes/script");
}

TEST(RunMountFlag, SecretTargetsAsBuildKitChoosesThem) {
  auto m = parse_run_mount("type=secret,id=npm", "B:2");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->target, "/run/secrets/npm");
  EXPECT_FALSE(m->env);
  m = parse_run_mount("type=secret,id=npm,env=NPM_TOKEN", "B:2");  // the variable alone, no file
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->target, "");
  EXPECT_EQ(m->env, "NPM_TOKEN");
  m = parse_run_mount("type=secret,id=npm,env=T,target=/root/.npmrc", "B:2");  // both
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->target, "/root/.npmrc");
  EXPECT_EQ(m->env, "T");
  m = parse_run_mount("type=secret,id=x,source=real", "B:2");  // source names the secret
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->id, "real");
  m = parse_run_mount("type=secret,target=/etc/app/key", "B:2");  // the id from the target
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->id, "key");
  EXPECT_FALSE(parse_run_mount("type=secret,env=X", "B:2").ok());  // no id
  EXPECT_FALSE(parse_run_mount("type=secret,id=a,env=", "B:2").ok());
  auto bad = parse_run_mount("type=cache,target=/c,env=X", "B:2");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.error().what()).find("B:2: RUN --mount: env= is for type=secret only"), std::string::npos);
}

}  // namespace
}  // namespace kiln::builder
