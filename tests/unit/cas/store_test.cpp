// Tests for cas/store: layout creation, blob read/verify, tags in index.json, concurrent index updates.
#include "cas/store.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/unit/support/temp_dir.h"

namespace kiln::cas {
namespace {

TEST(Store, OpenCreatesOciLayout) {
  test::TempDir t;
  auto s = Store::open(t / "root");
  ASSERT_TRUE(s.ok());
  auto layout = nlohmann::json::parse(*read_file(t / "root/oci-layout"));
  EXPECT_EQ(layout["imageLayoutVersion"], "1.0.0");
  auto index = nlohmann::json::parse(*read_file(t / "root/index.json"));
  EXPECT_EQ(index["schemaVersion"], 2);
  EXPECT_TRUE(index["manifests"].empty());
  EXPECT_TRUE(path_exists(t / "root/blobs/sha256"));
}

TEST(Store, ReadBlobVerifiesContent) {
  test::TempDir t;
  auto s = Store::open(t.path());
  auto info = s->put_blob("{\"a\":1}");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(*s->read_blob(info->digest), "{\"a\":1}");
  test::write_text(s->blob_path(info->digest), "{\"a\":2}");  // corrupt it behind the store's back
  auto r = s->read_blob(info->digest);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::corrupt);
  EXPECT_FALSE(s->read_blob(sha256_of("missing")).ok());
}

TEST(Store, TagsReplaceAndRemove) {
  test::TempDir t;
  auto s = Store::open(t.path());
  auto a = *s->put_blob("a"), b = *s->put_blob("b");
  ASSERT_TRUE(s->set_tag("localhost/x:1", "mt", a).ok());
  ASSERT_TRUE(s->set_tag("localhost/x:2", "mt", a).ok());
  ASSERT_TRUE(s->set_tag("localhost/x:1", "mt", b).ok());
  auto list = *s->list();
  ASSERT_EQ(list.size(), 2u);
  for (const auto& e : list) EXPECT_EQ(e.digest, e.ref == "localhost/x:1" ? b.digest : a.digest);
  auto j = nlohmann::json::parse(*read_file(t / "index.json"));
  EXPECT_EQ(j["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"], "localhost/x:2");
  EXPECT_TRUE(s->remove_tag("localhost/x:2").ok());
  EXPECT_EQ(s->remove_tag("localhost/x:2").error().code, ErrorCode::not_found);
  EXPECT_EQ(s->list()->size(), 1u);
}

TEST(Store, UntaggedEntryOnlyWhenNoTagKeepsIt) {
  test::TempDir t;
  auto s = Store::open(t.path());
  auto a = *s->put_blob("a");
  ASSERT_TRUE(s->set_tag("", "mt", a).ok());
  ASSERT_TRUE(s->set_tag("", "mt", a).ok());
  EXPECT_EQ(s->list()->size(), 1u);
  ASSERT_TRUE(s->set_tag("localhost/y:1", "mt", a).ok());
  auto list = *s->list();
  ASSERT_EQ(list.size(), 1u);  // the tag replaced the untagged entry
  EXPECT_EQ(list[0].ref, "localhost/y:1");
}

TEST(Store, ConcurrentProcessesNeverLoseATag) {
  test::TempDir t;
  ASSERT_TRUE(Store::open(t.path()).ok());
  constexpr int kProcs = 6, kTags = 15;
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = fork();
    if (pid == 0) {
      auto s = Store::open(t.path());
      for (int i = 0; i < kTags; ++i) {
        auto b = s->put_blob("blob" + std::to_string(p));
        if (!b || !s->set_tag("localhost/p" + std::to_string(p) + ":" + std::to_string(i), "mt", *b)) _exit(1);
      }
      _exit(0);
    }
    kids.push_back(pid);
  }
  for (pid_t k : kids) {
    int st;
    waitpid(k, &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  auto s = Store::open(t.path());
  EXPECT_EQ(s->list()->size(), static_cast<size_t>(kProcs * kTags));
}

TEST(Store, MalformedIndexIsAClearError) {
  test::TempDir t;
  auto s = Store::open(t.path());
  test::write_text(t / "index.json", "{not json");
  auto r = s->list();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::corrupt);
  EXPECT_NE(r.error().what().find("index.json"), std::string::npos);
}

}  // namespace
}  // namespace kiln::cas

namespace kiln::cas {
namespace {

TEST(Store, AtomicWriteMakesItsTempFileWhereItIsTold) {
  test::TempDir t;
  ASSERT_TRUE(make_dirs(t / "tmp").ok());
  ASSERT_TRUE(make_dirs(t / "cache").ok());
  ASSERT_TRUE(write_file_atomic(t / "cache/a.json", "{}", true, t / "tmp").ok());
  EXPECT_EQ(*read_file(t / "cache/a.json"), "{}");
  EXPECT_TRUE(list_dir(t / "tmp")->empty());
  EXPECT_EQ(list_dir(t / "cache")->size(), 1u);
  // Told a temp dir that is not there, it fails and writes nothing: it did not fall back to beside the file.
  EXPECT_FALSE(write_file_atomic(t / "cache/b.json", "{}", true, t / "gone").ok());
  EXPECT_EQ(list_dir(t / "cache")->size(), 1u);
}

}  // namespace
}  // namespace kiln::cas
