// kiln completion bash|zsh|fish: shell completion scripts made from the command model (command_model.h), so
// they offer exactly the commands, aliases and flags the parser takes. Image and container names are asked of
// kiln itself when a completion needs them.
#include <algorithm>
#include <iostream>
#include <set>
#include <sstream>

#include "cli/command.h"
#include "cli/command_model.h"
#include "cli/completion.h"

namespace kiln::cli {

namespace {

/// What a command's arguments are, for completing them: by the name of its first positional.
enum class ArgKind { none, image, container, dir, file };

ArgKind arg_kind(const CommandDoc& c) {
  if (c.positionals.empty()) return ArgKind::none;
  const std::string& p = c.positionals.front();
  if (p == "IMAGE" || p == "SOURCE") return ArgKind::image;
  if (p == "CONTAINER") return ArgKind::container;
  if (p == "CONTEXT" || p == "DIR") return ArgKind::dir;
  if (p == "TARBALL") return ArgKind::file;
  return ArgKind::none;
}

/// Flags whose value is a path.
bool path_valued(const FlagDoc& f) {
  static const std::set<std::string> kPaths = {"--file",       "--iidfile",  "--env-file", "--root", "--output",
                                               "--digestfile", "--cert-dir", "--cidfile",  "--input"};
  for (const auto& n : f.names)
    if (kPaths.count(n)) return true;
  return false;
}

/// The names of the path-valued flags, each as |NAME|.
std::string path_names(const std::vector<FlagDoc>& flags) {
  std::string out;
  for (const auto& f : flags)
    if (f.takes_value && path_valued(f))
      for (const auto& n : f.names) out += "|" + n + "|";
  return out;
}

std::string joined_names(const std::vector<FlagDoc>& flags, bool values_only) {
  std::string out;
  for (const auto& f : flags)
    if (!values_only || f.takes_value)
      for (const auto& n : f.names) out += (out.empty() ? "" : " ") + n;
  return out;
}

/// Commands without a group word (build, run…) and each group's second words.
std::vector<const CommandDoc*> top_level(const CliDoc& doc) {
  std::vector<const CommandDoc*> out;
  for (const auto& c : doc.commands)
    if (c.alias_of.empty()) out.push_back(&c);
  return out;
}
std::vector<std::string> groups(const CliDoc& doc) {
  std::vector<std::string> out;
  for (const auto& c : doc.commands)
    if (!c.alias_of.empty()) {
      std::string g = c.name.substr(0, c.name.find(' '));
      if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(g);
    }
  return out;
}
/// The groups as one shell case pattern: "image|container|…".
std::string group_alternatives(const std::vector<std::string>& gs) {
  std::string out;
  for (const auto& g : gs) out += (out.empty() ? "" : "|") + g;
  return out;
}
std::string subs_of(const CliDoc& doc, const std::string& group) {
  std::string out;
  for (const auto& c : doc.commands)
    if (!c.alias_of.empty() && c.name.rfind(group + " ", 0) == 0)
      out += (out.empty() ? "" : " ") + c.name.substr(group.size() + 1);
  return out;
}

const char* kImagesCmd = "kiln images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep -v '<none>'";
const char* kContainersCmd = "kiln ps --format '{{.Names}}' 2>/dev/null";

void bash(const CliDoc& doc, std::ostream& o) {
  std::string global_values = joined_names(doc.globals, true);
  std::string commands;
  for (const auto* c : top_level(doc)) commands += c->name + " ";
  for (const auto& g : groups(doc)) commands += g + " ";
  o << "# bash completion for kiln: source <(kiln completion bash), or install it as\n"
       "# /usr/share/bash-completion/completions/kiln. Made from kiln's own command definitions.\n"
       "_kiln_images() { "
    << kImagesCmd << "; }\n_kiln_containers() { " << kContainersCmd
    << "; }\n"
       "_kiln() {\n"
       "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
       "  local i w cmd= group=\n"
       "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
       "    w=${COMP_WORDS[i]}\n"
       "    case \" "
    << global_values
    << " \" in *\" $w \"*) ((i++)); continue ;; esac\n"
       "    [[ $w == -* ]] && continue\n"
       "    if [[ -n $group ]]; then cmd=\"$group $w\"; break; fi\n"
       "    case $w in";
  o << " " << group_alternatives(groups(doc));
  o << ") group=$w; continue ;; esac\n"
       "    cmd=$w; break\n"
       "  done\n"
       "  local flags= values= paths= args=\n"
       "  if [[ -z $cmd ]]; then\n"
       "    case $group in\n";
  for (const auto& g : groups(doc))
    o << "      " << g << ") COMPREPLY=($(compgen -W \"" << subs_of(doc, g) << "\" -- \"$cur\")); return ;;\n";
  o << "    esac\n"
       "    flags=\""
    << joined_names(doc.globals, false) << "\" values=\"" << global_values << "\"\n"
    << "  fi\n"
       "  case $cmd in\n";
  for (const auto& c : doc.commands) {
    static const char* kKinds[] = {"", "image", "container", "dir", "file"};
    o << "    \"" << c.name << "\") flags=\"" << joined_names(c.flags, false) << "\" values=\""
      << joined_names(c.flags, true) << "\" paths=\"" << path_names(c.flags)
      << "\" args=" << kKinds[static_cast<int>(arg_kind(c))] << " ;;\n";
  }
  o << "  esac\n"
       "  values=\"$values "
    << global_values << "\" paths=\"$paths" << path_names(doc.globals)
    << "\"\n"
       "  if [[ -n $prev && \" $values \" == *\" $prev \"* ]]; then\n"
       "    if [[ $prev == --log-level ]]; then COMPREPLY=($(compgen -W \"debug info warn error\" -- \"$cur\"))\n"
       "    elif [[ \"$paths\" == *\"|$prev|\"* ]]; then COMPREPLY=($(compgen -f -- \"$cur\"))\n"
       "    else COMPREPLY=()\n"
       "    fi\n"
       "    return\n"
       "  fi\n"
       "  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\")); return; fi\n"
       "  case $cmd/$args in\n"
       "    /) COMPREPLY=($(compgen -W \""
    << commands
    << "\" -- \"$cur\")) ;;\n"
       "    */image) COMPREPLY=($(compgen -W \"$(_kiln_images)\" -- \"$cur\")) ;;\n"
       "    */container) COMPREPLY=($(compgen -W \"$(_kiln_containers)\" -- \"$cur\")) ;;\n"
       "    */dir) COMPREPLY=($(compgen -d -- \"$cur\")) ;;\n"
       "    */file) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
       "    *) COMPREPLY=() ;;\n"
       "  esac\n"
       "}\n"
       "complete -F _kiln kiln\n";
}

/// Text inside a zsh single-quoted _arguments spec or _describe item: ' closes the quote; [ ] : are syntax.
std::string zsh_quoted(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else if (c == '[' || c == ']' || c == ':' || c == '\\')
      out += std::string("\\") + c;
    else
      out += c;
  }
  return out;
}

void zsh_flag_specs(const std::vector<FlagDoc>& flags, std::ostream& o) {
  for (const auto& f : flags) {
    std::string excl, names;
    for (const auto& n : f.names) excl += (excl.empty() ? "" : " ") + n;
    std::string action = !f.takes_value                    ? ""
                         : path_valued(f)                  ? ":path:_files"
                         : f.names.back() == "--log-level" ? ":level:(debug info warn error)"
                                                           : ":value: ";
    for (const auto& n : f.names)
      o << " \\\n      '(" << excl << ")" << n << "[" << zsh_quoted(f.help) << "]" << action << "'";
  }
}

void zsh(const CliDoc& doc, std::ostream& o) {
  o << "#compdef kiln\n"
       "# zsh completion for kiln: install as _kiln in a directory of $fpath, or eval \"$(kiln completion zsh)\".\n"
       "# Made from kiln's own command definitions.\n"
       "_kiln_images() { local -a i; i=(${(f)\"$("
    << kImagesCmd
    << ")\"}); compadd -a i; }\n"
       "_kiln_containers() { local -a c; c=(${(f)\"$("
    << kContainersCmd
    << ")\"}); compadd -a c; }\n"
       "_kiln() {\n"
       "  local i w cmd group\n"
       "  for ((i = 2; i < CURRENT; i++)); do\n"
       "    w=${words[i]}\n"
       "    case $w in\n";
  std::string gv = joined_names(doc.globals, true);
  for (auto& ch : gv)
    if (ch == ' ') ch = '|';
  o << "      " << (gv.empty() ? "--" : gv) << ") ((i++)); continue ;;\n"
    << "      -*) continue ;;\n"
       "    esac\n"
       "    if [[ -n $group ]]; then cmd=\"$group $w\"; break; fi\n"
       "    case $w in";
  o << " " << group_alternatives(groups(doc));
  o << ") group=$w; continue ;; esac\n"
       "    cmd=$w; break\n"
       "  done\n"
       "  if [[ -z $cmd ]]; then\n"
       "    local -a items\n"
       "    case $group in\n";
  for (const auto& g : groups(doc)) {
    o << "      " << g << ") items=(";
    for (const auto& c : doc.commands)
      if (!c.alias_of.empty() && c.name.rfind(g + " ", 0) == 0)
        o << " '" << zsh_quoted(c.name.substr(g.size() + 1)) << ":" << zsh_quoted(c.help) << "'";
    o << ") ;;\n";
  }
  o << "      *) if [[ ${words[CURRENT]} == -* ]]; then\n"
       "           _arguments -s :";
  zsh_flag_specs(doc.globals, o);
  o << "\n           return\n"
       "         fi\n"
       "         items=(";
  for (const auto* c : top_level(doc)) o << " '" << zsh_quoted(c->name) << ":" << zsh_quoted(c->help) << "'";
  for (const auto& g : groups(doc))
    o << " '" << g << ":" << zsh_quoted(g + " commands (docker's management commands)") << "'";
  o << ") ;;\n"
       "    esac\n"
       "    _describe -t commands 'kiln command' items\n"
       "    return\n"
       "  fi\n"
       "  (( CURRENT -= i - 1 ))\n"
       "  words=(\"${(@)words[i,-1]}\")\n"
       "  case $cmd in\n";
  for (const auto& c : doc.commands) {
    o << "    \"" << c.name << "\") _arguments -s :";
    zsh_flag_specs(c.flags, o);
    // What completes the arguments, by ArgKind: none, image, container, dir, file.
    static const char* kZshArgs[] = {"", "'*:image:_kiln_images'", "'*:container:_kiln_containers'",
                                     "'*:directory:_files -/'", "'*:file:_files'"};
    if (arg_kind(c) != ArgKind::none) o << " \\\n      " << kZshArgs[static_cast<int>(arg_kind(c))];
    o << " ;;\n";
  }
  o << "  esac\n"
       "}\n"
       "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _kiln \"$@\"; else compdef _kiln kiln; fi\n";
}

/// Text in a fish double-quoted string.
std::string fish_quoted(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\' || c == '$') out += '\\';
    out += c;
  }
  return out;
}

void fish(const CliDoc& doc, std::ostream& o) {
  std::string gv;
  for (const auto& f : doc.globals)
    if (f.takes_value)
      for (const auto& n : f.names) gv += " " + n;
  o << "# fish completion for kiln: kiln completion fish > ~/.config/fish/completions/kiln.fish\n"
       "# Made from kiln's own command definitions.\n"
       "function __kiln_cmd --description 'the kiln command on the line so far: one word, or a group and its word'\n"
       "    set -l tokens (commandline -opc)\n"
       "    set -e tokens[1]\n"
       "    set -l group\n"
       "    set -l skip 0\n"
       "    for t in $tokens\n"
       "        if test $skip = 1\n"
       "            set skip 0\n"
       "            continue\n"
       "        end\n"
       "        switch $t\n"
       "            case"
    << gv
    << "\n"
       "                set skip 1\n"
       "                continue\n"
       "            case '-*'\n"
       "                continue\n"
       "        end\n"
       "        if test -n \"$group\"\n"
       "            echo \"$group $t\"\n"
       "            return\n"
       "        end\n"
       "        switch $t\n"
       "            case";
  for (const auto& g : groups(doc)) o << " " << g;
  o << "\n"
       "                set group $t\n"
       "                continue\n"
       "        end\n"
       "        echo $t\n"
       "        return\n"
       "    end\n"
       "    echo $group\n"
       "end\n"
       "function __kiln_is\n"
       "    set -l c (__kiln_cmd)\n"
       "    test \"$c\" = \"$argv\"\n"
       "end\n"
       "complete -c kiln -f\n";
  auto flag_lines = [&](const std::vector<FlagDoc>& flags, const std::string& cond) {
    for (const auto& f : flags) {
      o << "complete -c kiln -n \"" << cond << "\"";
      for (const auto& n : f.names) o << (n.size() == 2 ? " -s " + n.substr(1) : " -l " + n.substr(2));
      if (f.takes_value) o << (path_valued(f) ? " -rF" : " -x");
      if (f.names.back() == "--log-level") o << " -a 'debug info warn error'";
      o << " -d \"" << fish_quoted(f.help) << "\"\n";
    }
  };
  flag_lines(doc.globals, "__kiln_is");
  for (const auto* c : top_level(doc))
    o << "complete -c kiln -n \"__kiln_is\" -a " << c->name << " -d \"" << fish_quoted(c->help) << "\"\n";
  for (const auto& g : groups(doc)) {
    o << "complete -c kiln -n \"__kiln_is\" -a " << g << " -d \"" << g
      << " commands (docker's management commands)\"\n";
    for (const auto& c : doc.commands)
      if (!c.alias_of.empty() && c.name.rfind(g + " ", 0) == 0)
        o << "complete -c kiln -n \"__kiln_is " << g << "\" -a " << c.name.substr(g.size() + 1) << " -d \""
          << fish_quoted(c.help) << "\"\n";
  }
  for (const auto& c : doc.commands) {
    std::string cond = "__kiln_is " + c.name;
    flag_lines(c.flags, cond);
    static const std::string kFishArgs[] = {"", "-a \"(" + fish_quoted(kImagesCmd) + ")\"",
                                            "-a \"(" + fish_quoted(kContainersCmd) + ")\"",
                                            "-a \"(__fish_complete_directories)\"", "-F"};
    if (arg_kind(c) != ArgKind::none)
      o << "complete -c kiln -n \"" << cond << "\" " << kFishArgs[static_cast<int>(arg_kind(c))] << "\n";
  }
}

}  // namespace

Status write_completion(const CliDoc& doc, const std::string& shell, std::ostream& out) {
  if (shell == "bash")
    bash(doc, out);
  else if (shell == "zsh")
    zsh(doc, out);
  else if (shell == "fish")
    fish(doc, out);
  else
    return make_error(ErrorCode::invalid_argument, "no completion for shell \"" + shell + "\": use bash, zsh or fish");
  return {};
}

void register_completion_command(CLI::App& app, Context& ctx) {
  auto shell = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("completion", "Print a shell completion script (bash, zsh or fish)");
  cmd->add_option("SHELL", *shell, "bash, zsh or fish")->required();
  cmd->callback([&ctx, &app, shell] {
    ctx.action = [&app, shell]() -> Status {
      TRY(write_completion(describe(app), *shell, std::cout));
      return {};
    };
  });
  register_docs_command(app, ctx);
}

}  // namespace kiln::cli
