// kiln version: what this kiln is and which specs it speaks, for bug reports and scripts.
#include <iostream>

#include "cli/command.h"

#ifndef KILN_COMMIT
#define KILN_COMMIT "unknown"
#endif

namespace kiln::cli {

const char* build_kind = "dynamically linked (KILN_STATIC_DEPS=OFF)";

void register_version_command(CLI::App& app, Context& ctx) {
  auto* v = app.add_subcommand("version", "Show kiln's version, the OCI specs it implements and how it was built");
  v->callback([&ctx] {
    ctx.action = []() -> Status {
      std::cout << "kiln version " << KILN_VERSION << "\n"
                << " commit:                " << KILN_COMMIT << "\n"
                << " OCI image spec:        1.1.0\n"
                << " OCI runtime spec:      1.2.0 (kiln-runtime)\n"
                << " OCI distribution spec: 1.1.0\n"
                << " build:                 " << build_kind << "\n"
                << " compiler:              " << __VERSION__ << "\n";
      return {};
    };
  });
}

}  // namespace kiln::cli
