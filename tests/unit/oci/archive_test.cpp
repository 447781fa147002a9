// Tests for oci/archive: save then load in both formats, deterministic output, bad archives.
#include "oci/archive.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "common/fd.h"
#include "oci/tar_import.h"
#include "tests/unit/support/tar_builder.h"
#include "tests/unit/support/temp_dir.h"

namespace kiln::oci {
namespace {

using test::TarEntry;

struct ArchiveTest : ::testing::Test {
  test::TempDir t;
  cas::Store src = *cas::Store::open(t / "src");
  ImageStore images{src};
  void SetUp() override {
    test::write_text(t / "l.tar", test::build_tar({{TarEntry::file, "hello", "world"}}));
    UniqueFd fd = *open_fd(t / "l.tar", O_RDONLY);
    auto l = *import_tarball(src, fd.get(), media::Compression::gzip, "l.tar");
    ImageConfig c;
    c.created = "2026-01-01T00:00:00Z";
    c.diff_ids = {l.diff_id};
    ASSERT_TRUE(images.commit(c, {l}, {"localhost/app:1"}).ok());
  }
  std::string save(ArchiveFormat f, const std::string& name) {
    UniqueFd fd = *open_fd(t / name, O_WRONLY | O_CREAT | O_TRUNC);
    EXPECT_TRUE(save_archive(images, {*images.resolve("localhost/app:1")}, f, fd.get()).ok());
    return *read_file(t / name);
  }
};

TEST_F(ArchiveTest, RoundTripBothFormats) {
  auto orig = *images.resolve("localhost/app:1");
  for (auto f : {ArchiveFormat::oci, ArchiveFormat::docker}) {
    std::string bytes = save(f, "a.tar");
    EXPECT_EQ(bytes, save(f, "b.tar"));  // deterministic
    test::TempDir d;
    cas::Store dst = *cas::Store::open(d.path());
    ImageStore di(dst);
    UniqueFd fd = *open_fd(t / "a.tar", O_RDONLY);
    auto loaded = load_archive(di, fd.get(), "a.tar");
    ASSERT_TRUE(loaded.ok()) << loaded.error().what();
    ASSERT_EQ(loaded->size(), 1u);
    EXPECT_EQ(loaded->at(0), "localhost/app:1");
    auto img = di.resolve("localhost/app:1");
    ASSERT_TRUE(img.ok());
    EXPECT_EQ(img->id(), orig.id());  // the config bytes survive both formats
    if (f == ArchiveFormat::oci) {
      EXPECT_EQ(img->manifest_digest, orig.manifest_digest);
    }
    ASSERT_TRUE(make_dirs(d / "flat").ok());
    ASSERT_TRUE(di.flatten(*img, d / "flat").ok());
    EXPECT_EQ(*read_file(d / "flat/hello"), "world");
  }
}

TEST_F(ArchiveTest, BadArchivesAreRefused) {
  test::TempDir d;
  cas::Store dst = *cas::Store::open(d.path());
  ImageStore di(dst);
  std::string good = save(ArchiveFormat::oci, "a.tar");
  std::vector<std::pair<std::string, std::string>> cases = {
      {"garbage", "not a tar"},
      {"truncated", good.substr(0, good.size() / 2)},
      {"no-index", test::build_tar({{TarEntry::file, "oci-layout", "{}"}})},
      {"bad-json", test::build_tar({{TarEntry::file, "index.json", "{oops"}})},
      {"lying-blob", test::build_tar({{TarEntry::file, "blobs/sha256/" + std::string(64, 'a'), "x"}})},
  };
  for (const auto& [name, bytes] : cases) {
    test::write_text(t / name, bytes);
    UniqueFd fd = *open_fd(t / name, O_RDONLY);
    auto r = load_archive(di, fd.get(), name);
    EXPECT_FALSE(r.ok()) << name;
    if (!r.ok()) {
      EXPECT_NE(r.error().what().find(name), std::string::npos) << r.error().what();
    }
  }
  EXPECT_TRUE(dst.list()->empty());
}

TEST(FamiliarName, ShortensDockerHub) {
  EXPECT_EQ(familiar_name("docker.io/library/debian:12"), "debian:12");
  EXPECT_EQ(familiar_name("docker.io/user/app:1"), "user/app:1");
  EXPECT_EQ(familiar_name("localhost/app:1"), "localhost/app:1");
}

}  // namespace
}  // namespace kiln::oci
