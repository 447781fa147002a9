// Fuzz target: globs and ignore files. The first line is the pattern (or ignore file up to a NUL), the rest
// the path; matching must end in time linear in the path, whatever the pattern.
#include <cstddef>
#include <cstdint>
#include <string>

#include "builder/glob.h"
#include "builder/ignore.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string pattern = in.substr(0, nl), path = nl == std::string::npos ? "" : in.substr(nl + 1);
  if (auto g = kiln::builder::Glob::compile(pattern)) (void)g->match(path);
  size_t nul = in.find('\0');
  if (auto rules = kiln::builder::IgnoreRules::parse(in.substr(0, nul)))
    (void)rules->excluded(nul == std::string::npos ? path : in.substr(nul + 1));
  return 0;
}
