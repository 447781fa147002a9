// Tests for oci/extract: file types and metadata, whiteouts in both modes, and every escape attempt refused.
#include "oci/extract.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/fd.h"
#include "tests/unit/support/compressed.h"
#include "tests/unit/support/tar_builder.h"
#include "tests/unit/support/temp_dir.h"

namespace kiln::oci {
namespace {

using test::TarEntry;

Status extract(const std::vector<TarEntry>& entries, const std::string& dest, Whiteouts mode = Whiteouts::apply) {
  test::TempDir t;
  test::write_text(t / "layer.tar", test::build_tar(entries));
  UniqueFd fd = *open_fd(t / "layer.tar", O_RDONLY);
  return extract_tar(fd.get(), dest, ExtractOptions{mode, "layer test", std::nullopt});
}

TEST(Extract, FilesDirsLinksAndMetadata) {
  test::TempDir t;
  ASSERT_TRUE(extract({{TarEntry::dir, "etc/", "", 0750, 0, 0, 5000},
                       {TarEntry::file, "etc/passwd", "root:x:0:0", 0600, 12, 34, 6000, {{"user.note", "hi"}}},
                       {TarEntry::file, "bin/tool", "#!", 04755},
                       {TarEntry::symlink, "bin/sh", "tool"},
                       {TarEntry::hardlink, "bin/tool2", "bin/tool"},
                       {TarEntry::chardev, "dev/null", ""},
                       {TarEntry::fifo, "run/fifo", ""}},
                      t.path())
                  .ok());
  struct stat st;
  ASSERT_EQ(lstat((t / "etc/passwd").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, 12u);
  EXPECT_EQ(st.st_gid, 34u);
  EXPECT_EQ(st.st_mtime, 6000);
  char v[8] = {};
  EXPECT_EQ(getxattr((t / "etc/passwd").c_str(), "user.note", v, sizeof v), 2);
  ASSERT_EQ(lstat((t / "etc").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_mtime, 5000);  // set after its children were created
  ASSERT_EQ(lstat((t / "bin/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);  // setuid survives chown
  EXPECT_EQ(st.st_nlink, 2u);
  char target[16] = {};
  EXPECT_EQ(readlink((t / "bin/sh").c_str(), target, sizeof target), 4);
  ASSERT_EQ(lstat((t / "dev/null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  ASSERT_EQ(lstat((t / "run/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST(Extract, WhiteoutsApplyWhenFlattening) {
  test::TempDir t;
  ASSERT_TRUE(extract({{TarEntry::file, "a/keep", "1"},
                       {TarEntry::file, "a/gone", "2"},
                       {TarEntry::file, "o/old1", "3"},
                       {TarEntry::file, "o/sub/old2", "4"}},
                      t.path())
                  .ok());
  ASSERT_TRUE(extract({{TarEntry::file, "a/.wh.gone", ""},
                       {TarEntry::file, "o/sub/new", "5"},
                       {TarEntry::file, "o/.wh..wh..opq", ""},
                       {TarEntry::file, "missing/.wh.x", ""}},
                      t.path())
                  .ok());
  EXPECT_TRUE(path_exists(t / "a/keep"));
  EXPECT_FALSE(path_exists(t / "a/gone"));
  EXPECT_FALSE(path_exists(t / "a/.wh.gone"));
  EXPECT_FALSE(path_exists(t / "o/old1"));
  EXPECT_FALSE(path_exists(t / "o/sub/old2"));
  EXPECT_TRUE(path_exists(t / "o/sub/new"));  // this layer's own content survives its opaque marker
  EXPECT_FALSE(path_exists(t / "missing"));
}

TEST(Extract, WhiteoutsBecomeOverlayMarkers) {
  test::TempDir t;
  ASSERT_TRUE(
      extract({{TarEntry::file, "a/.wh.gone", ""}, {TarEntry::dir, "o/"}, {TarEntry::file, "o/.wh..wh..opq", ""}},
              t.path(), Whiteouts::overlay)
          .ok());
  struct stat st;
  ASSERT_EQ(lstat((t / "a/gone").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  char v[2] = {};
  EXPECT_EQ(getxattr((t / "o").c_str(), "trusted.overlay.opaque", v, sizeof v), 1);
  EXPECT_EQ(v[0], 'y');
}

TEST(Extract, LaterEntryReplacesEarlierWithoutFollowingIt) {
  test::TempDir outside, t;
  test::write_text(outside / "victim", "safe");
  ASSERT_TRUE(extract({{TarEntry::symlink, "f", outside / "victim"}, {TarEntry::file, "f", "new"}}, t.path()).ok());
  EXPECT_EQ(*read_file(outside / "victim"), "safe");
  EXPECT_EQ(*read_file(t / "f"), "new");
}

TEST(Extract, RelativeSymlinkParentInsideRootIsFollowed) {
  test::TempDir t;
  ASSERT_TRUE(
      extract({{TarEntry::dir, "usr/lib/"}, {TarEntry::symlink, "lib", "usr/lib"}, {TarEntry::file, "lib/x", "1"}},
              t.path())
          .ok());
  EXPECT_TRUE(path_exists(t / "usr/lib/x"));
}

// docker and containerd clean entry names lexically before extracting ("sub/../up" is "up", "/abs" is "abs"),
// and so does kiln: a name that stays inside the root is taken, not refused.
TEST(Extract, DotDotThatStaysInsideIsCleaned) {
  test::TempDir t;
  ASSERT_TRUE(extract({{TarEntry::file, "sub/../up.txt", "u"},
                       {TarEntry::file, "/abs.txt", "a"},
                       {TarEntry::file, "d/e/../f", "f"},
                       {TarEntry::hardlink, "h", "d/x/../f"}},
                      t.path())
                  .ok());
  EXPECT_EQ(*read_file(t / "up.txt"), "u");
  EXPECT_EQ(*read_file(t / "abs.txt"), "a");
  EXPECT_EQ(*read_file(t / "d/f"), "f");
  EXPECT_EQ(*read_file(t / "h"), "f");
  EXPECT_FALSE(path_exists(t / "sub"));
}

struct Attack {
  const char* name;
  std::vector<TarEntry> entries;
  const char* culprit;
};

TEST(Extract, RefusesEveryEscapeAndNamesTheEntry) {
  test::TempDir outside;
  ASSERT_TRUE(make_dirs(outside / "dir").ok());
  test::write_text(outside / "secret", "s");
  std::string out = outside.path();
  std::string up = "../../../../../../../../..";
  std::vector<Attack> attacks = {
      {"dotdot", {{TarEntry::file, "../../escape", "x"}}, "../../escape"},
      {"dotdot-inner", {{TarEntry::file, "a/../../escape", "x"}}, "a/../../escape"},
      {"symlink-parent-relative",
       {{TarEntry::symlink, "evil", up + out + "/dir"}, {TarEntry::file, "evil/pwned", "x"}},
       "evil/pwned"},
      {"symlink-parent-absolute",
       {{TarEntry::symlink, "evil", out + "/dir"}, {TarEntry::file, "evil/pwned", "x"}},
       "evil/pwned"},
      {"symlink-dir-then-dir", {{TarEntry::symlink, "evil", out}, {TarEntry::dir, "evil/dir/sub/"}}, "evil/dir/sub/"},
      {"hardlink-dotdot", {{TarEntry::hardlink, "link", up + out + "/secret"}}, "link"},
      {"hardlink-through-symlink",
       {{TarEntry::symlink, "evil", out}, {TarEntry::hardlink, "link", "evil/secret"}},
       "link"},
      {"dotdot-cleaned-through-symlink",
       {{TarEntry::symlink, "evil", out + "/dir"}, {TarEntry::file, "evil/sub/../pwned", "x"}},
       "evil/sub/../pwned"},
      {"dotdot-past-symlink",
       {{TarEntry::symlink, "evil", out}, {TarEntry::file, "evil/../../dir/pwned", "x"}},
       "evil/../../dir/pwned"},
      {"hardlink-dotdot-inner", {{TarEntry::file, "f", "x"}, {TarEntry::hardlink, "link", "f/../../secret"}}, "link"},
      {"whiteout-through-symlink",
       {{TarEntry::symlink, "evil", out}, {TarEntry::file, "evil/.wh.secret", ""}},
       "evil/.wh.secret"},
  };
  for (const auto& atk : attacks) {
    test::TempDir t;
    auto st = extract(atk.entries, t.path());
    ASSERT_FALSE(st.ok()) << atk.name;
    EXPECT_NE(st.error().what().find(atk.culprit), std::string::npos) << atk.name << ": " << st.error().what();
    EXPECT_FALSE(path_exists(outside / "dir/pwned")) << atk.name;
    EXPECT_FALSE(path_exists(outside / "dir/sub")) << atk.name;
    EXPECT_TRUE(path_exists(outside / "secret")) << atk.name;
    struct stat s;
    ASSERT_EQ(stat((outside / "secret").c_str(), &s), 0);
    EXPECT_EQ(s.st_nlink, 1u) << atk.name;
  }
}

TEST(Extract, TruncatedArchiveIsCorrupt) {
  test::TempDir t, work;
  std::string tar = test::build_tar({{TarEntry::file, "big", std::string(100000, 'x')}});
  test::write_text(work / "t.tar", tar.substr(0, 5000));
  UniqueFd fd = *open_fd(work / "t.tar", O_RDONLY);
  auto st = extract_tar(fd.get(), t.path(), ExtractOptions{Whiteouts::apply, "layer L", std::nullopt});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().what().find("layer L"), std::string::npos) << st.error().what();
}

TEST(Extract, VerifiesBlobDigest) {
  test::TempDir t, work;
  std::string tar = test::build_tar({{TarEntry::file, "f", "x"}});
  test::write_text(work / "t.tar", tar);
  UniqueFd fd = *open_fd(work / "t.tar", O_RDONLY);
  auto st = extract_tar(fd.get(), t.path(), ExtractOptions{Whiteouts::apply, "layer L", cas::sha256_of("other")});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::corrupt);
  UniqueFd fd2 = *open_fd(work / "t.tar", O_RDONLY);
  test::TempDir t2;
  EXPECT_TRUE(extract_tar(fd2.get(), t2.path(), ExtractOptions{Whiteouts::apply, "L", cas::sha256_of(tar)}).ok());
}

// A layer tree is shared under the diffID its config names: the uncompressed tar must be that, whatever the
// compression, and the blob its own digest.
TEST(Extract, VerifiesDiffIdOfTheUncompressedTar) {
  std::string tar = test::build_tar({{TarEntry::file, "f", "good"}});
  std::string other = test::build_tar({{TarEntry::file, "f", "EVIL"}});
  for (auto c : {media::Compression::none, media::Compression::gzip, media::Compression::zstd}) {
    for (const std::string* content : {&tar, &other}) {
      test::TempDir t, work;
      std::string blob = test::compressed(c, *content);
      test::write_text(work / "l", blob);
      UniqueFd fd = *open_fd(work / "l", O_RDONLY);
      auto st = extract_tar(fd.get(), t.path(),
                            ExtractOptions{Whiteouts::overlay, "layer L", cas::sha256_of(blob), cas::sha256_of(tar)});
      if (content == &tar) {
        EXPECT_TRUE(st.ok()) << st.error().what();
        EXPECT_EQ(*read_file(t / "f"), "good");
      } else {
        ASSERT_FALSE(st.ok()) << static_cast<int>(c);
        EXPECT_EQ(st.error().code, ErrorCode::corrupt);
        EXPECT_NE(st.error().what().find("the image config says " + cas::sha256_of(tar).str()), std::string::npos)
            << st.error().what();
      }
    }
  }
}

TEST(Extract, CorruptGzipIsNamed) {
  test::TempDir t, work;
  std::string blob = test::compressed(media::Compression::gzip, test::build_tar({{TarEntry::file, "f", "x"}}));
  blob[blob.size() / 2] ^= 0x55;
  test::write_text(work / "l", blob);
  UniqueFd fd = *open_fd(work / "l", O_RDONLY);
  auto st = extract_tar(fd.get(), t.path(), ExtractOptions{Whiteouts::apply, "layer L", std::nullopt, std::nullopt});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().what().find("layer L"), std::string::npos) << st.error().what();
}

}  // namespace
}  // namespace kiln::oci
