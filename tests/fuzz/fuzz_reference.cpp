// Fuzz target: image references; a parsed reference prints as a reference that parses to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "oci/reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)kiln::oci::looks_like_id(text);
  auto r = kiln::oci::Reference::parse(text);
  if (!r) return 0;
  auto again = kiln::oci::Reference::parse(r->str());
  if (!again || again->str() != r->str()) std::abort();
  return 0;
}
