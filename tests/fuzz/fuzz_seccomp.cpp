// Fuzz target: docker/OCI seccomp profiles, compiled to BPF (never installed).
#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/seccomp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto f = kiln::runtime::seccomp_from_json(text, "profile.json", kiln::runtime::default_caps());
  if (f) (void)f->compile();
  return 0;
}
