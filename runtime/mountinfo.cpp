// The host's mount table as the kernel writes it in /proc/self/mountinfo.
#include "runtime/mountinfo.h"

#include <sstream>

#include "common/fd.h"
#include "common/number.h"

namespace kiln::runtime {

namespace {

/// mountinfo writes a space, tab, newline or backslash in a path as \ and three octal digits.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
        s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::vector<MountLine> parse_mountinfo(const std::string& text) {
  std::vector<MountLine> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    size_t dash = line.find(" - ");  // the optional tags end at a lone "-"
    if (dash == std::string::npos) continue;
    std::istringstream head(line.substr(0, dash)), tail(line.substr(dash + 3));
    std::string id, parent, dev, root, point, source;
    MountLine m;
    if (!(head >> id >> parent >> dev >> root >> point) || !(tail >> m.type >> source)) continue;
    tail >> m.super_options;
    auto n = parse_uint(id, UINT64_MAX);
    if (!n) continue;
    m.id = *n;
    m.point = unescape(point);
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<MountLine> own_mountinfo() {
  auto text = read_file("/proc/self/mountinfo", 64u << 20);
  return text ? parse_mountinfo(*text) : std::vector<MountLine>{};
}

}  // namespace kiln::runtime
