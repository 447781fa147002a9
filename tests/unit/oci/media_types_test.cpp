// Tests for oci/media_types.
#include "oci/media_types.h"

#include <gtest/gtest.h>

namespace kiln::oci::media {
namespace {

TEST(MediaTypes, Classify) {
  EXPECT_TRUE(is_manifest(docker_manifest));
  EXPECT_TRUE(is_index(docker_list));
  EXPECT_TRUE(is_layer(docker_layer_gzip));
  EXPECT_TRUE(is_layer(oci_layer_zstd));
  EXPECT_FALSE(is_layer("application/vnd.example.unknown"));
  EXPECT_EQ(layer_compression(oci_layer_zstd), Compression::zstd);
  EXPECT_EQ(layer_compression(docker_layer_gzip), Compression::gzip);
  EXPECT_EQ(layer_compression(oci_layer_tar), Compression::none);
  Compression c;
  EXPECT_TRUE(parse_compression("zstd", c));
  EXPECT_EQ(c, Compression::zstd);
  EXPECT_FALSE(parse_compression("lz4", c));
}

}  // namespace
}  // namespace kiln::oci::media
