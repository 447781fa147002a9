// A whole string through one of kiln's compressors, for tests of what reads compressed layers.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "oci/compress.h"

namespace kiln::test {

inline std::string compressed(oci::media::Compression c, const std::string& in) {
  std::string out;
  auto z = oci::Compressor::create(c, [&](const void* d, size_t n) -> Status {
    out.append(static_cast<const char*>(d), n);
    return {};
  });
  EXPECT_TRUE(z->write(in.data(), in.size()).ok());
  EXPECT_TRUE(z->finish().ok());
  return out;
}

}  // namespace kiln::test
