// Fuzz target: kiln-runtime's config.json reader and mount option parser on any text (the bundle directory is
// one that exists, so root.path resolution runs too).
#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/bundle_config.h"
#include "runtime/bundle_rootfs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto c = kiln::runtime::parse_bundle_config(text, "/");
  if (c)
    for (const auto& m : c->mounts) (void)kiln::runtime::parse_mount_options(m.options);
  return 0;
}
