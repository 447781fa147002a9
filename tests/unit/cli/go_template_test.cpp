// Tests for cli/go_template: the --format forms docker's and podman's users write.
#include "cli/go_template.h"

#include <gtest/gtest.h>

#include <sstream>

namespace kiln::cli {
namespace {

using json = nlohmann::json;

std::string render(const std::string& f, const json& dot) {
  auto t = GoTemplate::parse(f);
  EXPECT_TRUE(t.ok()) << t.error().what();
  if (!t) return "";
  auto r = t->render(dot);
  EXPECT_TRUE(r.ok()) << r.error().what();
  return r ? *r : "";
}

const json kImage = {{"ID", "0123456789ab"},
                     {"Repository", "localhost/web"},
                     {"Tag", "1"},
                     {"Size", 1234},
                     {"Config",
                      {{"Cmd", {"httpd", "-f"}},
                       {"Env", {"A=1", "B=2"}},
                       {"Entrypoint", nullptr},
                       {"Labels", {{"b", "2"}, {"a", "1"}}}}}};

TEST(GoTemplate, FieldsAndLiterals) {
  EXPECT_EQ(render("{{.ID}}", kImage), "0123456789ab");
  EXPECT_EQ(render("{{.Repository}}:{{.Tag}}", kImage), "localhost/web:1");
  EXPECT_EQ(render("{{.Config.Cmd}}", kImage), "[httpd -f]");
  EXPECT_EQ(render("{{.Config.Labels}}", kImage), "map[a:1 b:2]");
  EXPECT_EQ(render("{{.Size}} {{\"x}}y\"}} {{`raw`}} {{42}}", kImage), "1234 x}}y raw 42");
  EXPECT_EQ(render("{{.Config.Entrypoint}}", kImage), "<no value>");
  // A number beyond any double or int64 is a value, not a crash; a non-ASCII byte where a number may start too.
  auto huge = GoTemplate::parse("{{" + std::string(400, '9') + ".5}} {{-9" + std::string(30, '9') + "}}");
  ASSERT_TRUE(huge.ok());
  EXPECT_TRUE(huge->render(kImage).ok());
  EXPECT_FALSE(GoTemplate::parse("{{-\xe9}}").ok());
}

TEST(GoTemplate, FunctionsAndPipes) {
  EXPECT_EQ(render("{{json .Config.Cmd}}", kImage), "[\"httpd\",\"-f\"]");
  EXPECT_EQ(render("{{json .}}", json{{"a", 1}}), "{\"a\":1}");
  EXPECT_EQ(render("{{join .Config.Env \",\"}}", kImage), "A=1,B=2");
  EXPECT_EQ(render("{{.Repository | upper}}", kImage), "LOCALHOST/WEB");
  EXPECT_EQ(render("{{index .Config.Labels \"a\"}} {{index .Config.Cmd 1}}", kImage), "1 -f");
  EXPECT_EQ(render("{{len .Config.Env}}", kImage), "2");
  EXPECT_EQ(render("{{printf \"%-6s|%d\" .Tag .Size}}", kImage), "1     |1234");
  EXPECT_EQ(render("{{truncate .ID 4}}", kImage), "0123");
  EXPECT_EQ(render("{{(index .Config.Cmd 0) | title}}", kImage), "Httpd");
  EXPECT_EQ(render("{{split \"a:b\" \":\"}}", kImage), "[a b]");
}

TEST(GoTemplate, Blocks) {
  EXPECT_EQ(render("{{range .Config.Env}}[{{.}}]{{end}}", kImage), "[A=1][B=2]");
  EXPECT_EQ(render("{{if .Config.Entrypoint}}yes{{else}}no{{end}}", kImage), "no");
  EXPECT_EQ(render("{{if eq .Tag \"1\"}}one{{end}}", kImage), "one");
  EXPECT_EQ(render("{{with .Config}}{{.Cmd}}{{end}}", kImage), "[httpd -f]");
  EXPECT_EQ(render("a {{- \" b \" -}} c", kImage), "a b c");
  EXPECT_EQ(render("a {{-3}}", kImage), "a -3");  // no space: a negative number, not a trim
  EXPECT_EQ(render("{{/* a comment */}}x", kImage), "x");
  EXPECT_EQ(render("{{.ID}}\\t{{.Tag}}", kImage), "0123456789ab\t1");  // \t as docker reads it
}

TEST(GoTemplate, ErrorsAreOneLine) {
  for (const char* bad : {"{{.ID", "{{}}", "{{end}}", "{{if .ID}}x", "{{nope .ID}}", "{{$x := 1}}", "{{\"open}}",
                          "{{else}}", "{{.ID | }}", "{{(index .ID}}"}) {
    auto t = GoTemplate::parse(bad);
    Result<std::string> r = t ? t->render(kImage) : Result<std::string>(t.error());
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().what().find('\n'), std::string::npos) << r.error().what();
    EXPECT_NE(r.error().what().find("--format"), std::string::npos);
  }
  auto t = GoTemplate::parse("{{.Nope}}");
  auto r = t->render(kImage);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().what().find("can't evaluate field Nope (fields here: Config, ID"), std::string::npos)
      << r.error().what();
}

TEST(GoTemplate, BadBytesAndHugeWidthsAreTextNotAnAbort) {
  // Invalid UTF-8 (a literal in the format, or a value) is written as U+FFFD, as Go's encoding/json does;
  // it aborted kiln (found by fuzz_format).
  EXPECT_EQ(render("{{json \"a\xff\"}}", kImage), "\"a\xef\xbf\xbd\"");
  EXPECT_EQ(render("{{printf \"%q\" \"\xfe\"}}", kImage), "\"\xef\xbf\xbd\"");
  EXPECT_EQ(render("{{json .}}", json{{"k", "\xc3"}}), "{\"k\":\"\xef\xbf\xbd\"}");
  // A width over 10^6 is refused in the text, as Go's fmt refuses it, rather than making a string that large.
  EXPECT_EQ(render("{{printf \"%99999999999999999999s|%3s\" .Tag .Tag}}", kImage), "%!(BADWIDTH)1|  1");
}

TEST(GoTemplate, Table) {
  std::ostringstream out;
  json titles = {{"ID", "IMAGE ID"}, {"Repository", "REPOSITORY"}};
  ASSERT_TRUE(
      print_formatted("table {{.Repository}}\\t{{.ID}}", {kImage, json{{"ID", "x"}, {"Repository", "r"}}}, titles, out)
          .ok());
  EXPECT_EQ(out.str(),
            "REPOSITORY      IMAGE ID\n"
            "localhost/web   0123456789ab\n"
            "r               x\n");
  std::ostringstream plain;
  ASSERT_TRUE(print_formatted("{{.ID}}", {kImage}, titles, plain).ok());
  EXPECT_EQ(plain.str(), "0123456789ab\n");
}

}  // namespace
}  // namespace kiln::cli
