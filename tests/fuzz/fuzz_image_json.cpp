// Fuzz target: manifests, indexes and configs as a registry or an archive could send them; what parses
// serializes and parses again. A config (the input up to a NUL) also becomes a bundle's config.json, with the
// rest of the input as the image's /etc/passwd and /etc/group (kiln unpack --bundle).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "oci/image.h"
#include "runtime/image_bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)kiln::oci::sniff_media_type(bytes);
  (void)kiln::oci::pretty_json(bytes);
  if (auto m = kiln::oci::parse_manifest(bytes)) (void)kiln::oci::parse_manifest(kiln::oci::to_json(*m));
  if (auto ix = kiln::oci::parse_index(bytes)) (void)kiln::oci::parse_index(kiln::oci::to_json(*ix));
  if (auto c = kiln::oci::parse_config(bytes)) (void)kiln::oci::parse_config(kiln::oci::to_json(*c));
  size_t nul = bytes.find('\0');
  std::string etc(nul == std::string_view::npos ? std::string_view() : bytes.substr(nul + 1));
  if (auto c = kiln::oci::parse_config(bytes.substr(0, nul))) (void)kiln::runtime::image_bundle_config(*c, etc, etc);
  return 0;
}
