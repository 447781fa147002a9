// Where `run`'s and `exec`'s own flags end and the container's command begins, as docker divides them.
#include "cli/command.h"

namespace kiln::cli {

bool in_name_list(std::string_view list, char sep, std::string_view name) {
  for (size_t at = 0; at <= list.size();) {
    size_t end = list.find(sep, at);
    if (end == std::string_view::npos) end = list.size();
    if (list.substr(at, end - at) == name) return true;
    at = end + 1;
  }
  return false;
}

std::string unknown_flag_message(const std::string& flag) {
  // docker flags users type that kiln lacks on purpose: say what to do instead.
  struct Known {
    const char* flags;  // space-separated, each as typed
    const char* instead;
  };
  static const Known kKnown[] = {
      {"--expose", "kiln adds no EXPOSE at run time: publish the port with -p [IP:]HOST_PORT:CONTAINER_PORT"},
      {"--privileged", "kiln does not run privileged containers: grant what the command needs with --cap-add"},
      {"--restart", "kiln containers are disposable and never restarted: run the command again"},
      {"--volumes-from", "named and shared volumes are not supported: bind a host directory with -v HOST:CTR"},
      {"--device", "host devices are not passed in: a container gets docker's default /dev nodes only"},
      {"--pid --ipc --uts", "a container always has pid, ipc and uts namespaces of its own"},
  };
  for (const auto& k : kKnown)
    if (in_name_list(k.flags, ' ', flag)) return flag + ": " + k.instead;
  return "unknown flag: " + flag;
}

TargetSplit split_at_target(const std::function<FlagKind(const std::string&)>& kind,
                            const std::vector<std::string>& args) {
  TargetSplit s;
  s.target = args.size();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {  // the end of the flags: the target follows
      s.dash_dash = true;
      if (i + 1 < args.size()) s.target = i + 1;
      return s;
    }
    if (a.size() < 2 || a[0] != '-') {
      s.target = i;
      return s;
    }
    if (a[1] == '-') {
      std::string name = a.substr(0, a.find('='));
      FlagKind k = kind(name);
      if (k == FlagKind::unknown) {
        s.unknown = name;
        return s;
      }
      if (k == FlagKind::value && a.find('=') == std::string::npos) ++i;  // its value follows
      continue;
    }
    for (size_t j = 1; j < a.size(); ++j) {  // -it, -eFOO=1, -e FOO=1
      std::string name = std::string("-") + a[j];
      FlagKind k = kind(name);
      if (k == FlagKind::unknown) {
        s.unknown = name;
        return s;
      }
      if (k == FlagKind::value) {
        if (j + 1 == a.size()) ++i;  // the value is the next argument, else the rest of this one
        break;
      }
    }
  }
  return s;
}

TargetSplit split_at_target(const CLI::App& cmd, const std::vector<std::string>& args) {
  return split_at_target(
      [&cmd](const std::string& name) {
        const CLI::Option* o = cmd.get_option_no_throw(name);
        if (!o && cmd.get_parent()) o = cmd.get_parent()->get_option_no_throw(name);  // a global one (--root)
        if (!o) return FlagKind::unknown;
        return o->get_items_expected_max() > 0 ? FlagKind::value : FlagKind::flag;
      },
      args);
}

namespace {

class GivenUsage : public CLI::Formatter {
 public:
  explicit GivenUsage(std::string line) : m_line(std::move(line)) {}
  std::string make_usage(const CLI::App*, std::string) const override { return "Usage: " + m_line + "\n"; }

 private:
  std::string m_line;
};

}  // namespace

void set_usage(CLI::App& cmd, std::string line) { cmd.formatter(std::make_shared<GivenUsage>(std::move(line))); }

}  // namespace kiln::cli
