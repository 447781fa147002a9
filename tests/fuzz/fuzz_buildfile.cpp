// Fuzz target: the Buildfile parser, typed instructions, stage planning, metadata steps and variable
// expansion on any text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "builder/buildfile.h"
#include "builder/expand.h"
#include "builder/stage.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto bf = kiln::builder::parse_buildfile(text, "Buildfile");
  if (!bf) return 0;
  kiln::builder::Vars args = {{"A", "a b"}, {"EMPTY", ""}}, globals;
  auto stages = kiln::builder::plan_stages(*bf, args, globals);
  if (stages)  // the typed metadata instructions applied to a stage, as the build applies them
    for (const auto& s : *stages) {
      kiln::builder::StageState st;
      for (const auto& step : s.steps)
        if (std::holds_alternative<kiln::builder::MetadataCmd>(step.cmd) ||
            std::holds_alternative<kiln::builder::HealthcheckCmd>(step.cmd))
          (void)kiln::builder::apply_metadata(step, st, args, globals, bf->escape, "Buildfile");
    }
  for (const auto& ins : bf->instructions) {
    (void)kiln::builder::expand_words(ins.args, args, bf->escape);
    (void)kiln::builder::parse_key_values(ins.args, args, bf->escape);
  }
  return 0;
}
