// Fuzz target: --format templates (Go's text/template as docker reads it). The input up to a NUL is the format;
// after it, a JSON document to render it over (else a fixed image-like object). Parsing and rendering end in
// text or one error, never a crash, a hang or unbounded output.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/go_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  size_t nul = in.find('\0');
  std::string format = in.substr(0, nul);
  nlohmann::json dot = nlohmann::json::parse(nul == std::string::npos ? "" : in.substr(nul + 1), nullptr, false);
  if (dot.is_discarded())
    dot = {{"Repository", "localhost/app"},
           {"Tag", "1"},
           {"Size", 1234567},
           {"Labels", {{"a", "b"}, {"c", ""}}},
           {"Config", {{"Cmd", {"sh", "-c", "echo hi"}}, {"Env", nlohmann::json::array()}}},
           {"Layers", {"sha256:aa", "sha256:bb"}},
           {"Empty", nullptr}};
  auto t = kiln::cli::GoTemplate::parse(format);
  if (!t) return 0;
  (void)t->render(dot, false);
  (void)t->render(dot, true);
  return 0;
}
