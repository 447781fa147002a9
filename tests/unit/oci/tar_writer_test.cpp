// Tests for oci/tar_writer: deterministic bytes, hardlinks, xattrs, clamped mtimes, overlay upper conversion.
#include "oci/tar_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/fd.h"
#include "oci/extract.h"
#include "tests/unit/support/temp_dir.h"

namespace kiln::oci {
namespace {

std::string tar_of(const std::string& dir, const TarOptions& o = {}) {
  std::string out;
  auto st = write_tar(dir, o, [&](const void* d, size_t n) -> Status {
    out.append(static_cast<const char*>(d), n);
    return {};
  });
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().what());
  return out;
}

void make_tree(const std::string& root) {
  test::write_text(root + "/z/file", "zz");
  test::write_text(root + "/a/file", "aa", 0755);
  test::write_text(root + "/m", "mm");
  ::link((root + "/m").c_str(), (root + "/a/m-link").c_str());
  ::symlink("a/file", (root + "/sym").c_str());
  ::setxattr((root + "/m").c_str(), "security.capability",
             "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20, 0);
  ::chown((root + "/z/file").c_str(), 1000, 1001);
}

TEST(TarWriter, SameTreeSameBytesInAnotherDirectory) {
  test::TempDir a, b;
  make_tree(a.path());
  make_tree(b.path());
  TarOptions o;
  o.clamp_mtime = 1000;
  EXPECT_EQ(tar_of(a.path(), o), tar_of(b.path(), o));
  EXPECT_EQ(tar_of(a.path(), o), tar_of(a.path(), o));
}

TEST(TarWriter, RoundTripKeepsLinksOwnersXattrs) {
  test::TempDir src, dst, work;
  make_tree(src.path());
  test::write_text(work / "t.tar", tar_of(src.path()));
  UniqueFd fd = *open_fd(work / "t.tar", O_RDONLY);
  ASSERT_TRUE(extract_tar(fd.get(), dst.path(), ExtractOptions{}).ok());
  struct stat s1, s2;
  ASSERT_EQ(stat((dst / "m").c_str(), &s1), 0);
  ASSERT_EQ(stat((dst / "a/m-link").c_str(), &s2), 0);
  EXPECT_EQ(s1.st_ino, s2.st_ino);
  ASSERT_EQ(stat((dst / "z/file").c_str(), &s1), 0);
  EXPECT_EQ(s1.st_uid, 1000u);
  EXPECT_EQ(s1.st_gid, 1001u);
  ASSERT_EQ(stat((dst / "a/file").c_str(), &s1), 0);
  EXPECT_EQ(s1.st_mode & 0777, 0755u);
  char cap[32];
  EXPECT_EQ(getxattr((dst / "m").c_str(), "security.capability", cap, sizeof cap), 20);
  char t[16] = {};
  EXPECT_EQ(readlink((dst / "sym").c_str(), t, sizeof t), 6);
}

// BuildKit's layers carry security.capability and no other xattr; files from the context carry none.
TEST(TarWriter, KeepsTheFileCapabilityAloneAndNoneWhenAsked) {
  test::TempDir src, work;
  test::write_text(src / "f", "ff");
  ::setxattr((src / "f").c_str(), "security.capability",
             "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20, 0);
  if (::setxattr((src / "f").c_str(), "user.kiln", "v", 1, 0) < 0) GTEST_SKIP() << "no user xattrs here";
  for (bool drop : {false, true}) {
    std::string out;
    TarStream tar(TarOptions{}, [&](const void* d, size_t n) -> Status {
      out.append(static_cast<const char*>(d), n);
      return {};
    });
    EntryOverrides ov;
    ov.drop_xattrs = drop;
    ASSERT_TRUE(tar.add(src / "f", "f", ov).ok());
    ASSERT_TRUE(tar.close().ok());
    test::TempDir dst;
    test::write_text(work / "t.tar", out);
    UniqueFd fd = *open_fd(work / "t.tar", O_RDONLY);
    ASSERT_TRUE(extract_tar(fd.get(), dst.path(), ExtractOptions{}).ok());
    char v[32];
    EXPECT_EQ(getxattr((dst / "f").c_str(), "user.kiln", v, sizeof v), -1) << "drop=" << drop;
    EXPECT_EQ(getxattr((dst / "f").c_str(), "security.capability", v, sizeof v), drop ? -1 : 20) << "drop=" << drop;
  }
}

TEST(TarWriter, NamesThatAreNotAsciiRoundTripAsTheirBytes) {
  // UTF-8 names (and one that is not UTF-8) are written as they are: in kiln's C locale libarchive refused them.
  test::TempDir src, dst, work;
  test::write_text(src / "caf\xc3\xa9/\xc3\xbc.txt", "u");
  test::write_text(src / "bad\xff", "b");
  ::symlink("caf\xc3\xa9/\xc3\xbc.txt", (src / "l\xc3\xafnk").c_str());
  std::string bytes = tar_of(src.path());
  EXPECT_NE(bytes.find("path=caf\xc3\xa9/\xc3\xbc.txt\n"), std::string::npos);  // a pax path record, raw UTF-8
  test::write_text(work / "t.tar", bytes);
  UniqueFd fd = *open_fd(work / "t.tar", O_RDONLY);
  ASSERT_TRUE(extract_tar(fd.get(), dst.path(), ExtractOptions{}).ok());
  EXPECT_EQ(*read_file(dst / "caf\xc3\xa9/\xc3\xbc.txt"), "u");
  EXPECT_EQ(*read_file(dst / "bad\xff"), "b");
  char t[32] = {};
  EXPECT_EQ(readlink((dst / "l\xc3\xafnk").c_str(), t, sizeof t), 12);
  EXPECT_STREQ(t, "caf\xc3\xa9/\xc3\xbc.txt");
}

TEST(TarWriter, ClampsMtimes) {
  test::TempDir src, dst, work;
  test::write_text(src / "f", "x");
  TarOptions o;
  o.clamp_mtime = 12345;
  test::write_text(work / "t.tar", tar_of(src.path(), o));
  UniqueFd fd = *open_fd(work / "t.tar", O_RDONLY);
  ASSERT_TRUE(extract_tar(fd.get(), dst.path(), ExtractOptions{}).ok());
  struct stat st;
  ASSERT_EQ(stat((dst / "f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtime, 12345);
}

TEST(TarWriter, OverlayUpperWhiteoutsBecomeOciMarkers) {
  test::TempDir upper, lower, work;
  test::write_text(lower / "gone", "x");
  test::write_text(lower / "opq/old", "x");
  ASSERT_EQ(::mknod((upper / "gone").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
  ASSERT_EQ(::mkdir((upper / "opq").c_str(), 0755), 0);
  ASSERT_EQ(::setxattr((upper / "opq").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  test::write_text(upper / "opq/new", "n");
  TarOptions o;
  o.overlay_upper = true;
  std::string tar = tar_of(upper.path(), o);
  EXPECT_NE(tar.find(".wh.gone"), std::string::npos);
  EXPECT_NE(tar.find("opq/.wh..wh..opq"), std::string::npos);
  test::write_text(work / "t.tar", tar);
  UniqueFd fd = *open_fd(work / "t.tar", O_RDONLY);
  ASSERT_TRUE(extract_tar(fd.get(), lower.path(), ExtractOptions{}).ok());
  EXPECT_FALSE(path_exists(lower / "gone"));
  EXPECT_FALSE(path_exists(lower / "opq/old"));
  EXPECT_TRUE(path_exists(lower / "opq/new"));
}

}  // namespace
}  // namespace kiln::oci
