// Tests for builder/history: history entries in BuildKit's words and the Go formats they are written in. The
// expected strings are what docker 20.10's BuildKit wrote for the same instructions (see the conformance cases'
// "--- history" sections, made by BuildKit).
#include "builder/history.h"

#include <gtest/gtest.h>

#include "builder/stage.h"

namespace kiln::builder {
namespace {

TEST(History, GoQuote) {
  EXPECT_EQ(go_quote("echo cmd"), "\"echo cmd\"");
  EXPECT_EQ(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(go_quote("l1\nl2\tx\r"), "\"l1\\nl2\\tx\\r\"");
  EXPECT_EQ(go_quote(std::string("\x01\x7f", 2)), "\"\\x01\\x7f\"");
  EXPECT_EQ(go_quote("\xff"), "\"\\xff\"");               // an invalid byte
  EXPECT_EQ(go_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // printable: as it is
  EXPECT_EQ(go_quote("\xc2\xa0"), "\"\\u00a0\"");         // a space other than ' '
  EXPECT_EQ(go_quote("\xe2\x80\x8b"), "\"\\u200b\"");     // a format character
  EXPECT_EQ(go_quote_list({"/bin/sh", "-c", "echo hi"}), "[\"/bin/sh\" \"-c\" \"echo hi\"]");
  EXPECT_EQ(go_quote_list({}), "[]");
  EXPECT_EQ(go_list({"/bin/sh", "-ec"}), "[/bin/sh -ec]");
}

TEST(History, GoDuration) {
  EXPECT_EQ(go_duration(0), "0s");
  EXPECT_EQ(go_duration(5'000'000'000), "5s");
  EXPECT_EQ(go_duration(1'500'000'000), "1.5s");
  EXPECT_EQ(go_duration(90'000'000'000), "1m30s");
  EXPECT_EQ(go_duration(3'600'000'000'000), "1h0m0s");
  EXPECT_EQ(go_duration(500'000'000), "500ms");
  EXPECT_EQ(go_duration(1'500'000), "1.5ms");
  EXPECT_EQ(go_duration(2'000), "2\xc2\xb5s");
  EXPECT_EQ(go_duration(7), "7ns");
  EXPECT_EQ(go_duration(-5'000'000'000), "-5s");
}

TEST(History, GoQuoteRune) {
  EXPECT_EQ(go_quote_rune(0), "'\\x00'");
  EXPECT_EQ(go_quote_rune(3), "'\\x03'");
  EXPECT_EQ(go_quote_rune(10), "'\\n'");
  EXPECT_EQ(go_quote_rune('A'), "'A'");
  EXPECT_EQ(go_quote_rune('\''), "'\\''");
  EXPECT_EQ(go_quote_rune(-1), "'\xef\xbf\xbd'");
}

TEST(History, RunNamesTheStagesArgs) {
  std::vector<std::string> env = {"PATH=/bin", "A=1", "B=2", "E=v"};
  EXPECT_EQ(run_history({"/bin/sh", "-c", "echo $A > /a"}, {"A", "B"}, env),
            "RUN |2 A=1 B=2 /bin/sh -c echo $A > /a # buildkit");
  EXPECT_EQ(run_history({"/bin/true"}, {}, env), "RUN /bin/true # buildkit");
  // An ARG with no value anywhere is listed empty; one declared twice, twice.
  EXPECT_EQ(run_history({"x"}, {"NONE", "A", "A"}, env), "RUN |3 NONE= A=1 A=1 x # buildkit");
}

TEST(History, CopyHealthcheckExpose) {
  EXPECT_EQ(copy_history("COPY", false, {"a", "b"}, "/d/"), "COPY a b /d/ # buildkit");
  EXPECT_EQ(copy_history("COPY", true, {"./x/a"}, "/p/"), "COPY --parents ./x/a /p/ # buildkit");
  oci::Healthcheck h;
  h.test = {"CMD-SHELL", "true"};
  h.interval = 5'000'000'000;
  EXPECT_EQ(healthcheck_history(h), "HEALTHCHECK &{[\"CMD-SHELL\" \"true\"] \"5s\" \"0s\" \"0s\" '\\x00'}");
  h.retries = 3;
  EXPECT_EQ(healthcheck_history(h), "HEALTHCHECK &{[\"CMD-SHELL\" \"true\"] \"5s\" \"0s\" \"0s\" '\\x03'}");
  EXPECT_EQ(expose_history({"80/tcp", "53/udp", "8080/tcp", "80/tcp"}), "EXPOSE map[53/udp:{} 80/tcp:{} 8080/tcp:{}]");
}

/// The history text apply_metadata gives an instruction of a one-stage Buildfile.
std::optional<std::string> shown(const std::string& line, StageState& st) {
  auto bf = parse_buildfile("FROM scratch\n" + line + "\n", "B");
  EXPECT_TRUE(bf.ok());
  const Instruction& ins = bf->instructions[1];
  Step s{&ins, *parse_command(ins, "B")};
  auto m = apply_metadata(s, st, {{"B", "cli"}}, {}, '\\', "B");
  EXPECT_TRUE(m.ok()) << m.error().what();
  return m->created_by;
}

TEST(History, MetadataInstructions) {
  StageState st;
  EXPECT_EQ(*shown("ARG A=1 B", st), "ARG A=1 B");  // the Buildfile's default, not --build-arg's value
  EXPECT_EQ(st.declared_args, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(*shown("ENV E=$A F=\"x y\"", st), "ENV E=1 F=x y");
  EXPECT_EQ(*shown("LABEL a=b \"c d\"=e", st), "LABEL a=b c d=e");
  EXPECT_EQ(*shown("EXPOSE 80 53/udp", st), "EXPOSE map[53/udp:{} 80/tcp:{}]");
  EXPECT_EQ(*shown("VOLUME [\"/v\", \"/w\"]", st), "VOLUME [/v /w]");
  EXPECT_EQ(*shown("SHELL [\"/bin/sh\", \"-ec\"]", st), "SHELL [/bin/sh -ec]");
  EXPECT_EQ(*shown("CMD echo cmd", st), "CMD [\"/bin/sh\" \"-ec\" \"echo cmd\"]");
  EXPECT_EQ(*shown("ENTRYPOINT [\"/bin/sh\"]", st), "ENTRYPOINT [\"/bin/sh\"]");
  EXPECT_EQ(*shown("USER $B", st), "USER cli");
  EXPECT_EQ(*shown("STOPSIGNAL SIGTERM", st), "STOPSIGNAL SIGTERM");
  EXPECT_EQ(shown("ONBUILD RUN echo x", st), std::nullopt);  // BuildKit writes no entry for ONBUILD
}

}  // namespace
}  // namespace kiln::builder
