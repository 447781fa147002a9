// Tests for oci/progress: the bar text, plain lines off a terminal, redrawn lines on one, silence with -q.
#include "oci/progress.h"

#include <gtest/gtest.h>

#include <sstream>

namespace kiln::oci {
namespace {

TEST(Progress, BarText) {
  EXPECT_EQ(Progress::bar_text(0, 0, 0), "0B");
  EXPECT_EQ(Progress::bar_text(1500000, 61000000, 0), "1.5MB/61.0MB");
  // 10 MB of 60 MB in 1 s: 10 MB/s, 5 s to go.
  EXPECT_EQ(Progress::bar_text(10000000, 60000000, 1.0), "10.0MB/60.0MB 10.0MB/s ETA 5s");
  EXPECT_EQ(Progress::bar_text(1000000, 200000000, 1.0), "1.0MB/200.0MB 1.0MB/s ETA 3m19s");
  EXPECT_EQ(Progress::bar_text(5000, 0, 2.0), "5.0kB 2.5kB/s");  // unknown total: no ETA
}

TEST(Progress, PlainLinesWhenDone) {
  std::ostringstream out;
  {
    Progress p(out, Progress::Mode::lines);
    size_t a = p.add("aaaa", 10), b = p.add("bbbb", 20);
    p.advance(a, 5);
    EXPECT_EQ(out.str(), "");  // nothing until a blob is done
    p.finish(b, "already exists");
    p.finish(a, "pushed 10 bytes");
  }
  EXPECT_EQ(out.str(), "bbbb: already exists\naaaa: pushed 10 bytes\n");
}

TEST(Progress, LiveRedrawsTheBlockInPlace) {
  std::ostringstream out;
  {
    Progress p(out, Progress::Mode::live);
    size_t a = p.add("aaaa", 100);
    p.add("bbbb", 0);
    p.finish(a, "downloaded 100 bytes");
  }
  std::string s = out.str();
  EXPECT_NE(s.find("\r\x1b[2Kaaaa: waiting\n"), std::string::npos);
  EXPECT_NE(s.find("\x1b[2A"), std::string::npos) << "the second draw goes back over both lines";
  // The last block drawn has both final states.
  std::string last = s.substr(s.rfind("\x1b[2A"));
  EXPECT_NE(last.find("aaaa: downloaded 100 bytes"), std::string::npos);
  EXPECT_NE(last.find("bbbb: waiting"), std::string::npos);
}

TEST(Progress, QuietPrintsNothing) {
  std::ostringstream out;
  {
    Progress p(out, Progress::Mode::quiet);
    size_t a = p.add("aaaa", 10);
    p.advance(a, 10);
    p.finish(a, "done");
  }
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace kiln::oci
