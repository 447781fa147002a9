// Tests for common/symbolic_mode: chmod(1)'s symbolic modes as BSD's setmode() reads them with a umask of 0.
#include "common/symbolic_mode.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace kiln {
namespace {

struct Row {
  const char* spec;
  mode_t before, after;
};

// Each expectation is what GNU chmod made of a regular file of that mode (with umask 0), where it and BSD agree.
TEST(SymbolicMode, FilesAsChmodChangesThem) {
  const Row rows[] = {
      {"u+x", 0644, 0744},
      {"u+x", 0755, 0755},
      {"u+x", 0600, 0700},
      {"u+x", 04755, 04755},
      {"g=r", 0644, 0644},
      {"g=r", 0755, 0745},
      {"g=r", 0600, 0640},
      {"g=r", 04755, 04745},
      {"go-rwx", 0644, 0600},
      {"go-rwx", 0755, 0700},
      {"go-rwx", 0600, 0600},
      {"go-rwx", 04755, 04700},
      {"a+X", 0644, 0644},
      {"a+X", 0755, 0755},
      {"a+X", 0600, 0600},
      {"a+X", 04755, 04755},
      {"a-X", 0644, 0644},
      {"a-X", 0755, 0644},
      {"a-X", 0600, 0600},
      {"a-X", 04755, 04644},
      {"u=rwx,g=u-w,o=", 0644, 0750},
      {"u=rwx,g=u-w,o=", 0755, 0750},
      {"u=rwx,g=u-w,o=", 0600, 0750},
      {"u=rwx,g=u-w,o=", 04755, 0750},
      {"+t,u+s", 0644, 05644},
      {"+t,u+s", 0755, 05755},
      {"+t,u+s", 0600, 05600},
      {"+t,u+s", 04755, 05755},
      {"o=g", 0644, 0644},
      {"o=g", 0755, 0755},
      {"o=g", 0600, 0600},
      {"o=g", 04755, 04755},
      {"ug+w,o-r", 0644, 0660},
      {"ug+w,o-r", 0755, 0771},
      {"ug+w,o-r", 0600, 0620},
      {"ug+w,o-r", 04755, 04771},
      {"=r", 0644, 0444},
      {"=r", 0755, 0444},
      {"=r", 0600, 0444},
      {"=r", 04755, 0444},
      {"u+s,g+s,o+s", 0644, 06644},
      {"u+s,g+s,o+s", 0755, 06755},
      {"u+s,g+s,o+s", 0600, 06600},
      {"u+s,g+s,o+s", 04755, 06755},
      {"a=rX", 0644, 0444},
      {"a=rX", 0755, 0555},
      {"a=rX", 0600, 0444},
      {"a=rX", 04755, 0555},
      {"g+u", 0644, 0664},
      {"g+u", 0755, 0775},
      {"g+u", 0600, 0660},
      {"g+u", 04755, 04775},
      {"u-x+w", 0644, 0644},
      {"u-x+w", 0755, 0655},
      {"u-x+w", 0600, 0600},
      {"u-x+w", 04755, 04655},
      {"+x", 0644, 0755},
      {"+x", 0755, 0755},
      {"+x", 0600, 0711},
      {"+x", 04755, 04755},
      {"=", 0644, 00},
      {"=", 0755, 00},
      {"=", 0600, 00},
      {"=", 04755, 00},
      {"o+s", 0644, 0644},
      {"o+s", 0755, 0755},
      {"o+s", 0600, 0600},
      {"o+s", 04755, 04755},
      {"u=g,g=o", 0644, 0444},
      {"u=g,g=o", 0755, 0555},
      {"u=g,g=o", 0600, 00},
  };
  for (const auto& r : rows) {
    auto m = SymbolicMode::parse(r.spec);
    ASSERT_TRUE(m.ok()) << r.spec;
    EXPECT_EQ(m->apply(S_IFREG | r.before), r.after) << r.spec << " on 0" << std::oct << r.before;
  }
}

TEST(SymbolicMode, CapitalXIsExecuteForDirectoriesAndExecutables) {
  auto x = SymbolicMode::parse("a+X");
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->apply(S_IFDIR | 0600), 0711u);
  EXPECT_EQ(x->apply(S_IFREG | 0600), 0600u);
  EXPECT_EQ(x->apply(S_IFREG | 0610), 0711u);  // an x anywhere before
  auto rx = SymbolicMode::parse("a=rX");
  ASSERT_TRUE(rx.ok());
  EXPECT_EQ(rx->apply(S_IFDIR | 0700), 0555u);
}

TEST(SymbolicMode, KeepsBsdsReadingWhereGnuDiffers) {
  // BSD's setmode (and BuildKit's port): after 't' with no classes named, the clause touches the sticky bit alone.
  auto t = SymbolicMode::parse("+rt");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->apply(S_IFREG | 0600), 01600u);
  auto copy = SymbolicMode::parse("u=g");  // a copy replaces rwx alone: the setuid bit stays (GNU drops it)
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->apply(S_IFREG | 04755), 04555u);
  auto ot = SymbolicMode::parse("o+t");  // other alone: no sticky
  ASSERT_TRUE(ot.ok());
  EXPECT_EQ(ot->apply(S_IFREG | 0600), 0600u);
}

TEST(SymbolicMode, RefusesWhatIsNoMode) {
  for (const char* bad : {"", "u", "x", "u+x,", ",u+x", "u+q", "u*x", "755x", "a+x;rm"}) {
    auto m = SymbolicMode::parse(bad);
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_NE(std::string(m.error().what()).find("invalid mode"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace kiln
