// Where `run`'s and `exec`'s own flags end and the container's command begins, as docker divides them.
#include "cli/command.h"

namespace kiln::cli {

TargetSplit split_at_target(const CLI::App& cmd, const std::vector<std::string>& args) {
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
      const CLI::Option* o = cmd.get_option_no_throw(name);
      if (!o) {
        s.unknown = name;
        return s;
      }
      if (o->get_items_expected_max() > 0 && a.find('=') == std::string::npos) ++i;  // its value follows
      continue;
    }
    for (size_t j = 1; j < a.size(); ++j) {  // -it, -eFOO=1, -e FOO=1
      const CLI::Option* o = cmd.get_option_no_throw(std::string("-") + a[j]);
      if (!o) {
        s.unknown = std::string("-") + a[j];
        return s;
      }
      if (o->get_items_expected_max() > 0) {
        if (j + 1 == a.size()) ++i;  // the value is the next argument, else the rest of this one
        break;
      }
    }
  }
  return s;
}

}  // namespace kiln::cli
