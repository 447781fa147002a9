// Tests for oci/blob_locations: the record of which registry repositories hold a blob.
#include "oci/blob_locations.h"

#include <gtest/gtest.h>

#include "tests/unit/support/temp_dir.h"

namespace kiln::oci {
namespace {

TEST(BlobLocations, RememberedPerHostMostRecentFirst) {
  test::TempDir t;
  auto store = *cas::Store::open(t.path());
  auto blob = *store.put_blob("layer bytes");
  remember_location(store, blob.digest, "reg:5000", "team/app");
  remember_location(store, blob.digest, "reg:5000", "other/app");
  remember_location(store, blob.digest, "reg:5000", "team/app");  // again: no duplicate
  remember_location(store, blob.digest, "elsewhere.io", "x/y");
  EXPECT_EQ(known_repositories(store, blob.digest, "reg:5000"), (std::vector<std::string>{"other/app", "team/app"}));
  EXPECT_EQ(known_repositories(store, blob.digest, "elsewhere.io"), std::vector<std::string>{"x/y"});
  EXPECT_TRUE(known_repositories(store, blob.digest, "nowhere").empty());
  EXPECT_TRUE(known_repositories(store, cas::sha256_of("unknown"), "reg:5000").empty());
}

TEST(BlobLocations, ForgottenWhenTheBlobIsGone) {
  test::TempDir t;
  auto store = *cas::Store::open(t.path());
  auto kept = *store.put_blob("kept");
  cas::Digest gone = cas::sha256_of("never stored");
  remember_location(store, kept.digest, "reg", "a/b");
  remember_location(store, gone, "reg", "a/b");
  forget_missing_locations(store);
  EXPECT_EQ(known_repositories(store, kept.digest, "reg").size(), 1u);
  EXPECT_TRUE(known_repositories(store, gone, "reg").empty());
}

TEST(BlobLocations, IgnoresNamesThatWouldBreakTheRecord) {
  test::TempDir t;
  auto store = *cas::Store::open(t.path());
  auto blob = *store.put_blob("x");
  remember_location(store, blob.digest, "reg", "a b");
  remember_location(store, blob.digest, "reg", "a\nb");
  EXPECT_TRUE(known_repositories(store, blob.digest, "reg").empty());
}

}  // namespace
}  // namespace kiln::oci
