// Tests for builder/buildfile: a table of tricky Dockerfile snippets and the instructions they must give.
#include "builder/buildfile.h"

#include <gtest/gtest.h>

namespace kiln::builder {
namespace {

using V = std::vector<std::string>;

Instruction only(const std::string& text, size_t idx = 1) {
  auto bf = parse_buildfile(text, "Buildfile");
  EXPECT_TRUE(bf.ok()) << (bf.ok() ? "" : bf.error().what());
  if (!bf.ok() || bf->instructions.size() <= idx) return {};
  return bf->instructions[idx];
}

TEST(Buildfile, ContinuationsCommentsAndCase) {
  auto i = only("FROM scratch\nrun echo a \\\n  # a comment inside\n  b\n");
  EXPECT_EQ(i.keyword, "RUN");
  EXPECT_EQ(i.args, "echo a   b");
  EXPECT_EQ(i.line, 2);
  EXPECT_FALSE(i.json);
}

TEST(Buildfile, JsonAndShellForms) {
  auto i = only("FROM scratch\nCMD [\"/bin/sh\", \"-c\", \"echo \\\"hi\\\"\"]\n");
  EXPECT_TRUE(i.json);
  EXPECT_EQ(i.json_args, (V{"/bin/sh", "-c", "echo \"hi\""}));
  auto bad = only("FROM scratch\nCMD [not json]\n");
  EXPECT_FALSE(bad.json);  // falls back to the shell form, as docker does
  EXPECT_EQ(bad.args, "[not json]");
  auto cont = only("FROM scratch\nENTRYPOINT [\"a\", \\\n  \"b\"]\n");
  EXPECT_TRUE(cont.json);
  EXPECT_EQ(cont.json_args, (V{"a", "b"}));
}

TEST(Buildfile, FlagsAndDirectives) {
  auto bf = parse_buildfile(
      "# syntax=docker/dockerfile:1\n# escape=`\nFROM scratch\nCOPY --from=build --chown=1:2 a `\n  b /c\n", "B");
  ASSERT_TRUE(bf.ok()) << bf.error().what();
  EXPECT_EQ(bf->escape, '`');
  auto& c = bf->instructions[1];
  EXPECT_EQ(c.flags, (V{"--from=build", "--chown=1:2"}));
  EXPECT_EQ(c.args, "a   b /c");
}

// As BuildKit: a directive it does not know (or with no value) is a comment, and no directive follows it.
TEST(Buildfile, DirectivesEndAtOneBuildKitDoesNotKnow) {
  for (const char* head : {"# foo=bar\n", "# escape=\n", "# syntax-x=1\n"}) {
    auto bf = parse_buildfile(std::string(head) + "# escape=`\nFROM scratch\n", "B");
    ASSERT_TRUE(bf.ok()) << head << bf.error().what();
    EXPECT_EQ(bf->escape, '\\') << head;
  }
  auto bf = parse_buildfile("# check=skip=all\n# escape=`\nFROM scratch\n", "B");
  ASSERT_TRUE(bf.ok()) << bf.error().what();
  EXPECT_EQ(bf->escape, '`');
}

TEST(Buildfile, Heredocs) {
  auto bf = parse_buildfile(
      "FROM scratch\nRUN <<EOF\necho one\necho two\nEOF\nCOPY <<-\"END\" /f\n\tindented $X\n\tEND\nENV A=1\n", "B");
  ASSERT_TRUE(bf.ok()) << bf.error().what();
  ASSERT_EQ(bf->instructions.size(), 4u);
  EXPECT_EQ(bf->instructions[1].heredocs.at(0).content, "echo one\necho two\n");
  EXPECT_TRUE(bf->instructions[1].heredocs.at(0).expand);
  const auto& h = bf->instructions[2].heredocs.at(0);
  EXPECT_EQ(h.name, "END");
  EXPECT_EQ(h.content, "indented $X\n");
  EXPECT_FALSE(h.expand);
  EXPECT_EQ(bf->instructions[3].keyword, "ENV");
}

TEST(Buildfile, HeredocIsAWholeShellWordAsBuildKitFindsIt) {
  // Inside a word ("a<<b", a sed script) or inside quotes, << is the shell's, not a heredoc: the next line is
  // the next instruction.
  auto bf = parse_buildfile(
      "FROM scratch\nRUN echo \"a<<b\" 's/<<x/y/' c<<d\nRUN cat <<E\"N\"D > /n; cat 3<<-X\n$HOME\nEND\n\tx\n\tX\n"
      "RUN [\"sh\", \"-c\", \"cat <<EOF\"]\nENV A=1\n",
      "B");
  ASSERT_TRUE(bf.ok()) << bf.error().what();
  ASSERT_EQ(bf->instructions.size(), 5u);
  EXPECT_TRUE(bf->instructions[1].heredocs.empty());
  const auto& hs = bf->instructions[2].heredocs;
  ASSERT_EQ(hs.size(), 2u);
  EXPECT_EQ(hs[0].name, "END");  // the name unquoted; a quote in it turns expansion off
  EXPECT_FALSE(hs[0].expand);
  EXPECT_EQ(hs[0].content, "$HOME\n");
  EXPECT_EQ(hs[1].name, "X");  // a file descriptor before << is allowed
  EXPECT_TRUE(hs[1].strip_tabs);
  EXPECT_TRUE(hs[1].expand);
  EXPECT_EQ(hs[1].content, "x\n");
  EXPECT_TRUE(bf->instructions[3].heredocs.empty());  // exec form: no heredocs
  EXPECT_EQ(bf->instructions[4].keyword, "ENV");
}

TEST(Buildfile, ErrorsNameFileLineColumn) {
  const std::pair<const char*, const char*> cases[] = {
      {"FROM scratch\n  FOO bar\n", "Buildfile:2:3: unknown instruction: FOO"},
      {"COPY a b\n", "Buildfile:1:1: the first instruction must be FROM"},
      {"FROM scratch\nCOPY <<EOF /x\nno end\n", "heredoc <<EOF is never closed"},
      {"FROM scratch\nENV\n", "ENV requires at least one argument"},
      {"FROM scratch\nCMD [\"echo\", 1]\n", "Buildfile:2:1: CMD: a JSON array here must hold strings only"},
      {"", "has no instructions"},
      {"FROM scratch\nLABEL a=\xff\xfe\n", "not valid UTF-8"},
      {"# escape=x\nFROM scratch\n", "escape must be"},
  };
  for (const auto& [text, want] : cases) {
    auto r = parse_buildfile(text, "Buildfile");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.error().what().find(want), std::string::npos) << r.error().what();
  }
}

}  // namespace
}  // namespace kiln::builder
