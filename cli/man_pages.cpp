// Man pages from the command model: kiln(1) with the global options, the commands, the aliases and the exit
// codes; kiln-COMMAND(1) with a command's usage and options. No date in them, so they are reproducible.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "cli/completion.h"
#include "common/fd.h"

namespace kiln::cli {

namespace {

/// Text safe in roff: backslashes and hyphens escaped, other than ASCII as groff's \[uXXXX] (groff reads
/// Latin-1 bytes otherwise), a line never starting with a control character.
std::string roff(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else if (c >= 0x80) {
      size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
      uint32_t cp = len == 4 ? c & 0x07 : len == 3 ? c & 0x0f : len == 2 ? c & 0x1f : 0xfffd;
      for (size_t k = 1; k < len && i + 1 < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[++i]) & 0x3f);
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\[u%04X]", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

std::string page_name(const std::string& command) {
  std::string n = "kiln-" + command;
  for (auto& c : n)
    if (c == ' ') c = '-';
  return n;
}

void header(std::ostream& o, const std::string& title, const std::string& what) {
  o << ".TH " << roff(title) << " 1 \"\" \"kiln " << KILN_VERSION << "\" \"kiln manual\"\n"
    << ".SH NAME\n"
    << roff(title) << " \\- " << roff(what) << "\n";
}

void options(std::ostream& o, const char* section, const std::vector<FlagDoc>& flags) {
  if (flags.empty()) return;
  o << ".SH " << section << "\n";
  for (const auto& f : flags) {
    o << ".TP\n";
    for (size_t i = 0; i < f.names.size(); ++i) o << (i ? ", " : "") << "\\fB" << roff(f.names[i]) << "\\fR";
    if (f.takes_value) o << " \\fIVALUE\\fR";
    o << "\n" << roff(f.help) << "\n";
  }
}

std::string command_page(const CommandDoc& c) {
  std::ostringstream o;
  header(o, page_name(c.name), c.help);
  o << ".SH SYNOPSIS\n" << roff(c.usage) << "\n";
  o << ".SH DESCRIPTION\n" << roff(c.help) << ".\n";
  if (!c.alias_of.empty())
    o << ".PP\nThe same as \\fBkiln " << roff(c.alias_of) << "\\fR (docker's management command form).\n";
  options(o, "OPTIONS", c.flags);
  o << ".SH SEE ALSO\n.BR kiln (1)\n";
  return o.str();
}

std::string main_page(const CliDoc& doc) {
  std::ostringstream o;
  header(o, "kiln", doc.help);
  o << ".SH SYNOPSIS\n.B kiln\n[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]\n"
    << ".SH DESCRIPTION\nkiln builds OCI images from Buildfiles (Dockerfile syntax) into a content\\-addressable "
       "store, runs them as disposable read\\-only containers, and pushes and pulls them with registries. It is one "
       "program with no daemon. Global options may also follow the command (for \\fBrun\\fR and \\fBexec\\fR, "
       "before the image or container).\n";
  options(o, "GLOBAL OPTIONS", doc.globals);
  o << ".SH COMMANDS\n";
  for (const auto& c : doc.commands)
    if (c.alias_of.empty()) o << ".TP\n.BR " << roff(page_name(c.name)) << " (1)\n" << roff(c.help) << "\n";
  o << ".SH ALIASES\ndocker's management commands run the command kiln has for each:\n";
  for (const auto& c : doc.commands)
    if (!c.alias_of.empty())
      o << ".TP\n\\fBkiln " << roff(c.name) << "\\fR\n"
        << (c.alias_of.find('-') == std::string::npos ? "the same as \\fBkiln " + roff(c.alias_of) + "\\fR"
                                                      : roff(c.help))
        << "\n";
  o << ".SH EXIT STATUS\n"
       ".TP\n0\nsuccess\n"
       ".TP\n1\na command failed; its one line on stderr says what, on which input\n"
       ".TP\n2\na usage error: an unknown command or flag, a missing argument\n"
       ".TP\n130\n\\fBkiln build\\fR cancelled by Ctrl\\-C or SIGTERM\n"
       ".TP\n125, 126, 127\n\\fBrun\\fR and \\fBexec\\fR: kiln failed before the command ran (a bad flag too), "
       "the command is not executable, the command was not found; otherwise the command's own status, or 128 + "
       "the signal that ended it\n"
       ".SH FILES\n"
       ".TP\n/var/lib/kiln\nthe store as root (\\fB$KILN_ROOT\\fR, \\fB\\-\\-root\\fR); "
       "\\fB$XDG_DATA_HOME/kiln\\fR without root\n"
       ".TP\n$XDG_RUNTIME_DIR/containers/auth.json\nregistry credentials written by \\fBkiln login\\fR\n"
       ".TP\n/etc/containers/registries.conf, ~/.config/containers/registries.conf\nregistry mirrors, insecure "
       "and blocked registries, short\\-name search registries (\\fBcontainers\\-registries.conf\\fR(5))\n";
  return o.str();
}

Status write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) return make_error(ErrorCode::io, "write " + path + ": failed");
  return {};
}

}  // namespace

Status write_man_pages(const CliDoc& doc, const std::string& dir) {
  TRY(make_dirs(dir, 0755));
  TRY(write_text(dir + "/kiln.1", main_page(doc)));
  std::set<std::string> visible;
  for (const auto& c : doc.commands)
    if (c.alias_of.empty()) visible.insert(c.name);
  for (const auto& c : doc.commands) {
    std::string path = dir + "/" + page_name(c.name) + ".1";
    // An alias of a command with its own page includes it, as man(1) reads ".so"; else it is a page itself.
    if (!c.alias_of.empty() && visible.count(c.alias_of))
      TRY(write_text(path, ".so man1/" + page_name(c.alias_of) + ".1\n"));
    else
      TRY(write_text(path, command_page(c)));
  }
  return {};
}

void register_docs_command(CLI::App& app, Context& ctx) {
  auto dir = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("generate-docs", "Write man pages and completion scripts into DIR")->group("");
  cmd->add_option("DIR", *dir, "output directory")->required();
  cmd->callback([&ctx, &app, dir] {
    ctx.action = [&app, dir]() -> Status {
      CliDoc doc = describe(app);
      TRY(write_man_pages(doc, *dir + "/man1"));
      TRY(make_dirs(*dir + "/completion", 0755));
      for (auto [shell, file] : {std::pair{"bash", "kiln"}, {"zsh", "_kiln"}, {"fish", "kiln.fish"}}) {
        std::ostringstream s;
        TRY(write_completion(doc, shell, s));
        TRY(write_text(*dir + "/completion/" + file, s.str()));
      }
      return {};
    };
  });
}

}  // namespace kiln::cli
