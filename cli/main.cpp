// kiln: the command-line front end. Parses arguments, runs one subcommand, prints its error once.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/command.h"

namespace {

/// Failures exit 1, as docker's do; run/exec set 125/126/127 through ctx.exit_code.
int exit_code_for(const kiln::Error&) { return 1; }

}  // namespace

int main(int argc, char** argv) {
  // A closed pipe is an error to report, not a silent death (containers get default dispositions back).
  ::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"kiln: build, run and ship immutable container images", "kiln"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("kiln 0.1.0"));
  kiln::cli::Context ctx;
  app.add_option("--root", ctx.root, "store directory (default: $KILN_ROOT, /var/lib/kiln as root)");
  kiln::cli::register_image_commands(app, ctx);
  kiln::cli::register_store_commands(app, ctx);
  kiln::cli::register_import_commands(app, ctx);
  kiln::cli::register_rootfs_commands(app, ctx);
  kiln::cli::register_build_command(app, ctx);
  kiln::cli::register_registry_commands(app, ctx);
  kiln::cli::register_run_command(app, ctx);
  kiln::cli::register_container_commands(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "kiln: " << e.what() << " (see kiln --help)\n";
    // docker exits 125 for bad flags of run/exec; 2 elsewhere.
    for (const auto* sub : app.get_subcommands())
      if (sub->get_name() == "run" || sub->get_name() == "exec") return 125;
    return 2;
  }
  if (ctx.root.empty()) ctx.root = kiln::cas::Store::default_root();
  if (!ctx.action) return 0;
  auto st = ctx.action();
  std::cout.flush();
  if (!st) {
    std::cerr << "kiln: " << st.error().what() << "\n";
    return ctx.exit_code != 0 ? ctx.exit_code : exit_code_for(st.error());
  }
  return ctx.exit_code;
}
