// kiln: the command-line front end. Parses arguments, runs one subcommand, prints its error once.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/aliases.h"
#include "cli/command.h"
#include "common/dynlib.h"
#include "common/identity.h"
#include "common/log.h"
#include "runtime/state.h"
#include "runtime/user_namespace.h"
#ifdef KILN_STATIC_HALF
#include "cli/dynamic_half.h"
#endif

namespace {

/// Failures exit 1, as docker's do, and 130 for a cancelled build as a shell's Ctrl-C; run/exec set
/// 125/126/127 through ctx.exit_code (README, "Exit codes").
int exit_code_for(const kiln::Error& e) { return e.code == kiln::ErrorCode::cancelled ? 130 : 1; }

/// Subcommands by the file that registers them. Building every CLI11 option costs ~1.2 M instructions, a
/// noticeable share of a `kiln run` (bench/run), so only the group of the command at hand is registered;
/// help, version and unknown words get all of them.
struct Group {
  std::vector<std::string_view> commands;
  void (*add)(CLI::App&, kiln::cli::Context&);
  bool describes_all = false;  ///< its commands read every command's definition (completion, man pages)
};
const Group kGroups[] = {
    {{"images", "inspect", "tag", "rmi"}, kiln::cli::register_image_commands},
    {{"gc", "builder", "fsck"}, kiln::cli::register_store_commands},
    {{"import", "load", "save"}, kiln::cli::register_import_commands},
    {{"unpack", "export"}, kiln::cli::register_rootfs_commands},
    {{"build"}, kiln::cli::register_build_command},
    {{"pull", "push", "login", "logout"}, kiln::cli::register_registry_commands},
    {{"run"}, kiln::cli::register_run_command},
    {{"ps", "logs", "stop", "kill", "exec", "container-inspect"}, kiln::cli::register_container_commands},
    {{"version"}, kiln::cli::register_version_command},
    {{"info"}, kiln::cli::register_info_command},
    {{"history"}, kiln::cli::register_history_command},
    {{"system-df", "system-prune", "image-prune"}, kiln::cli::register_system_commands},
    {{"completion", "generate-docs"}, kiln::cli::register_completion_command, true},
};

/// Levenshtein distance, for "did you mean".
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

/// The line for a word that is no command: the nearest command when one is close (as docker's CLI suggests).
std::string unknown_command_message(std::string_view word) {
  std::string_view best;
  size_t best_d = 3;  // at most two edits away, or a prefix of a command
  for (const auto& g : kGroups)
    for (auto c : g.commands) {
      size_t d = c.rfind(word, 0) == 0 && word.size() >= 2 ? 1 : edit_distance(word, c);
      if (d < best_d) best_d = d, best = c;
    }
  std::string msg = "unknown command \"" + std::string(word) + "\" for kiln";
  if (!best.empty()) msg += "; did you mean " + std::string(best) + "?";
  return msg + " (see kiln --help)";
}

/// A command as the user typed it: the hidden names of alias targets ("system-df") as "system df".
std::string display_name(std::string_view word) {
  for (const auto& a : kiln::cli::aliases())
    if (a.command == word && word.find('-') != std::string_view::npos)
      return std::string(a.group) + " " + std::string(a.sub);
  return std::string(word);
}

/// The line for a flag the command does not take, with the nearest one it does take when one is close
/// (`unknown flag --tga for kiln build; did you mean --tag?`); "" when every flag given is known.
std::string unknown_flag_line(const CLI::App& sub, const CLI::App& app, const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--") break;
    if (a.size() < 2 || a[0] != '-') continue;
    auto find = [&](const std::string& n) {
      const CLI::Option* o = sub.get_option_no_throw(n);
      return o ? o : app.get_option_no_throw(n);
    };
    std::string name = a.substr(0, a.find('='));
    if (name[1] != '-') {  // -qa is -q -a, until a flag that takes a value (-fVALUE)
      for (size_t i = 1; i < name.size(); ++i) {
        const CLI::Option* o = find(std::string("-") + name[i]);
        if (!o) {
          name = std::string("-") + name[i];
          break;
        }
        if (o->get_items_expected_max() > 0 || i + 1 == name.size()) name.clear();
        if (name.empty()) break;
      }
      if (name.empty()) continue;
    } else if (find(name)) {
      continue;
    }
    std::string best;
    size_t best_d = 3;
    for (const CLI::App* owner : {&sub, &app})
      for (const CLI::Option* o : owner->get_options())
        for (const auto& l : o->get_lnames()) {
          size_t d = edit_distance(name, "--" + l);
          if (d < best_d) best_d = d, best = "--" + l;
        }
    return "unknown flag " + name + " for kiln " + display_name(sub.get_name()) +
           (best.empty() ? "" : "; did you mean " + best + "?");
  }
  return "";
}

/// Where the subcommand word is: the first argument that is neither an option nor the value of --root; argc
/// when there is none or kiln's own help or version comes first.
int command_index(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--root" || a == "--log-level") {
      ++i;
      continue;
    }
    if (a == "-h" || a == "--help" || a == "--help-all" || a == "--version") return argc;  // kiln's own help
    if (!a.empty() && a[0] == '-') continue;
    return i;
  }
  return argc;
}

/// The log level as the arguments give it (--log-level L, --log-level=L, -D, --debug), set before anything
/// runs: the start of the dynamic half and the move into a user namespace come before the parse. run's and
/// exec's arguments after the command word may be the container's, so only those before it count there.
void preset_log_level(int argc, char** argv, int at, std::string_view word) {
  int end = word == "run" || word == "exec" ? at : argc;
  for (int i = 1; i < end; ++i) {
    std::string_view a = argv[i];
    kiln::log::Level l;
    if (a == "-D" || a == "--debug")
      kiln::log::set_level(kiln::log::Level::debug);
    else if (a == "--log-level" && i + 1 < end && kiln::log::parse_level(argv[i + 1], l))
      kiln::log::set_level(l);
    else if (a.rfind("--log-level=", 0) == 0 && kiln::log::parse_level(a.substr(12), l))
      kiln::log::set_level(l);
  }
}

/// Rewrites `kiln [global flags] image|container SUB ARGS...` to the command itself (argv keeps its storage in
/// `store`). 0 when done or not an alias; 2 after one line when SUB is none of the group's.
int expand_alias(int& argc, char**& argv, int at, std::vector<char*>& store) {
  std::string_view group = argv[at];
  if (group != "image" && group != "container" && group != "system") return 0;
  std::string_view sub = at + 1 < argc ? argv[at + 1] : "";
  for (const auto& a : kiln::cli::aliases())
    if (a.group == group && a.sub == sub) {
      store.assign(argv, argv + argc);
      store[static_cast<size_t>(at) + 1] = const_cast<char*>(a.command.data());
      store.erase(store.begin() + at);
      argc = static_cast<int>(store.size());
      store.push_back(nullptr);
      argv = store.data();
      return 0;
    }
  std::string known;
  for (const auto& a : kiln::cli::aliases())
    if (a.group == group) known += std::string(known.empty() ? "" : ", ") + std::string(a.sub);
  if (sub.empty())
    std::cerr << "kiln: " << group << " needs a command: " << known << "\n";
  else
    std::cerr << "kiln: unknown command \"" << group << " " << sub << "\" for kiln (kiln " << group << " takes "
              << known << ")\n";
  return 2;
}

/// Rootless: the run directory checked, then into the user namespace (or, back in it after the exec that
/// follows, holding it); 0 when that went (or kiln is root on the host).
int enter_rootless(std::string_view word) {
  if (!kiln::rootless()) return 0;
  int failed = word == "run" || word == "exec" ? 125 : 1;
  if (auto st = kiln::runtime::check_run_base(); !st) {
    std::cerr << "kiln: " << st.error().what() << "\n";
    return failed;
  }
  std::string run_dir = kiln::runtime::run_base();
  if (::geteuid() == 0) {
    kiln::runtime::hold_user_namespace(run_dir);
    return 0;
  }
  // Commands on running containers stay in the host's: from there the user may signal and inspect the
  // processes of every container it started, whichever namespace it is in; exec joins the namespace of the
  // container it enters (exec_in_container).
  if (word == "ps" || word == "logs" || word == "stop" || word == "kill" || word == "exec") return 0;
  auto single_id = kiln::runtime::enter_user_namespace(run_dir);
  if (!single_id) {
    std::cerr << "kiln: " << single_id.error().what() << "\n";
    return failed;
  }
  if (*single_id) kiln::runtime::note_single_id(run_dir);
  return 0;
}

/// Rootless, just in the new user namespace: kiln again, exec'd there. Its memory then belongs to that
/// namespace, as will its children's before they exec (the container's first process, kept non-dumpable
/// against CVE-2019-5736): kiln holds every capability there, so it can read their /proc entries. (Exec'd in the
/// host's namespace, kiln could not: its state would name no identity, and stop and exec would be refused.)
void exec_again_in_user_namespace(char** argv) {
  ::execv("/proc/self/exe", argv);
  std::cerr << "kiln: rootless kiln: exec itself in its user namespace: " << std::strerror(errno) << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  // A closed pipe is an error to report, not a silent death (containers get default dispositions back).
  ::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"kiln: build, run and ship immutable container images", "kiln"};
  app.require_subcommand(1);
  app.fallthrough();  // global options (--root) are taken after the command too, as docker and podman take them
  app.set_version_flag("--version", std::string("kiln version ") + KILN_VERSION);
  kiln::cli::Context ctx;
  app.add_option("--root", ctx.root, "store directory (default: $KILN_ROOT, /var/lib/kiln as root)");
  std::string log_level;
  app.add_option("--log-level", log_level, "diagnostics on stderr: debug, info, warn (default) or error")
      ->check([](const std::string& v) {
        kiln::log::Level l;
        return kiln::log::parse_level(v, l) ? std::string()
                                            : "\"" + v + "\" is no level: use debug, info, warn or error";
      });
  bool debug = false;
  app.add_flag("-D,--debug", debug, "the same as --log-level debug");
  int at = command_index(argc, argv);
  std::vector<char*> aliased;
  if (at < argc)
    if (int code = expand_alias(argc, argv, at, aliased); code != 0) return code;
  std::string_view word = at < argc ? argv[at] : "";
  preset_log_level(argc, argv, at, word);
  if (at < argc) ctx.after_command.assign(argv + at + 1, argv + argc);
  const Group* only = nullptr;
  for (const auto& g : kGroups)
    for (auto c : g.commands)
      if (c == word) only = &g;
  if (!only && !word.empty()) {
    std::cerr << "kiln: " << unknown_command_message(word) << "\n";
    return 2;
  }
  // An ordinary user's kiln works in a user namespace of its own, entered before anything else (one thread).
  bool needs_host = word == "version" || (only && only->describes_all);  // nothing of the store or containers
  if (only && !needs_host) {
    bool was_host_uid = ::geteuid() != 0;
    if (int code = enter_rootless(word); code != 0) return code;
    if (was_host_uid && ::geteuid() == 0) {
      exec_again_in_user_namespace(argv);
      return 125;
    }
  }
#ifdef KILN_STATIC_HALF
  kiln::cli::build_kind = "static-pie (KILN_STATIC_DEPS=ON), with a dynamically linked half for registries";
  // This kiln is static (CMakeLists.txt): commands that load shared libraries run in its dynamic half.
  if (kiln::cli::needs_dynamic_half(word)) {
    kiln::cli::exec_dynamic_half(argv);
    return 125;
  }
  kiln::DynLib::forbid("not in the static kiln (a kiln bug: this command should run in its dynamic half)");
  ctx.puller = [&ctx](const kiln::oci::Reference& ref) { return kiln::cli::pull_in_dynamic_half(ctx.root, ref.str()); };
#endif
  // Completion and man pages read every command's whole definition: run and exec then register all their flags,
  // as they do when no target follows.
  if (only && only->describes_all) ctx.after_command.clear();
  for (const auto& g : kGroups)
    if (!only || only == &g || only->describes_all) g.add(app, ctx);
  // run and exec: CLI11 reads the flags and the target only; the container's command after the target is kept
  // verbatim, as docker keeps it (a "--" there belongs to the command, one before the target ends the flags).
  std::vector<char*> args(argv, argv + argc);
  if (word == "run" || word == "exec") {
    auto split = kiln::cli::split_at_target(*app.get_subcommand(std::string(word)), ctx.after_command);
    if (!split.unknown.empty()) {
      std::cerr << "kiln: " << kiln::cli::unknown_flag_message(split.unknown) << " (see kiln " << word << " --help)\n";
      return 125;  // docker's code for a bad flag of run/exec
    }
    if (split.target < ctx.after_command.size()) {
      size_t target = static_cast<size_t>(at) + 1 + split.target;
      ctx.trailing.assign(ctx.after_command.begin() + static_cast<std::ptrdiff_t>(split.target) + 1,
                          ctx.after_command.end());
      args.resize(target + 1);
      if (split.dash_dash) args.erase(args.begin() + static_cast<std::ptrdiff_t>(target) - 1);
    }
  }
  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const CLI::App* sub = nullptr;
    for (const CLI::App* c : std::as_const(app).get_subcommands([](const CLI::App*) { return true; }))
      if (c->get_name() == word) sub = c;
    std::string line = sub ? unknown_flag_line(*sub, app, ctx.after_command) : "";
    std::string help = sub ? "kiln " + display_name(word) + " --help" : "kiln --help";
    std::cerr << "kiln: " << (line.empty() ? std::string(e.what()) : line) << " (see " << help << ")\n";
    // docker exits 125 for bad flags of run/exec; 2 elsewhere.
    for (const auto* sub : app.get_subcommands())
      if (sub->get_name() == "run" || sub->get_name() == "exec") return 125;
    return 2;
  }
  if (kiln::log::Level l; kiln::log::parse_level(log_level, l)) kiln::log::set_level(l);
  if (debug) kiln::log::set_level(kiln::log::Level::debug);
  if (ctx.root.empty()) ctx.root = kiln::cas::Store::default_root();
  if (!ctx.action) return 0;
  kiln::Status st;
  try {  // a bug's exception unwinds (temp dirs, mounts and leases are released) and ends as one line
    st = ctx.action();
  } catch (const std::exception& e) {
    st = kiln::make_error(kiln::ErrorCode::generic,
                          std::string("internal error (") + e.what() +
                              "): a bug in kiln; please report it with the command that caused it");
  }
  std::cout.flush();
  if (!st) {
    std::cerr << "kiln: " << st.error().what() << "\n";
    return ctx.exit_code != 0 ? ctx.exit_code : exit_code_for(st.error());
  }
  return ctx.exit_code;
}
