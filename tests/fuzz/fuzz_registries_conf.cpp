// Fuzz target: registries.conf as podman reads it. The input up to a NUL is the file; after it, an image name
// to resolve through it (short-name candidates, pull sources, the push target). Each ends in a result or one
// error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "oci/reference.h"
#include "oci/registries_conf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  size_t nul = in.find('\0');
  auto conf = kiln::oci::RegistriesConf::parse(in.substr(0, nul), "registries.conf");
  if (!conf) return 0;
  std::string name = nul == std::string::npos ? "app" : in.substr(nul + 1);
  (void)kiln::oci::name_candidates(*conf, name);
  for (const std::string& n : {name, std::string("example.com/team/app:1"), std::string("docker.io/library/x")}) {
    auto ref = kiln::oci::Reference::parse(n);
    if (!ref) continue;
    (void)kiln::oci::pull_sources(*conf, *ref);
    (void)kiln::oci::push_target(*conf, *ref);
  }
  return 0;
}
