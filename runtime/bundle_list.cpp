// kiln-runtime list.
#include "runtime/bundle_list.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/fd.h"
#include "common/json.h"

namespace kiln::runtime {

Result<std::vector<BundleListing>> list_bundles(const std::string& root) {
  std::vector<BundleListing> out;
  for (const auto& name : TRY(list_dir(root))) {
    if (name.empty() || name[0] == '.') continue;  // kiln-runtime's own files (the seccomp cache)
    struct stat st {};
    if (::lstat(bundle_state_dir(root, name).c_str(), &st) < 0 || !S_ISDIR(st.st_mode)) continue;
    auto state = load_bundle_state(root, name);
    if (!state) continue;
    std::string status = bundle_status(root, *state);
    out.push_back(BundleListing{std::move(*state), std::move(status), st.st_uid});
  }
  return out;
}

std::string owner_name(uid_t uid, const std::string& passwd) {
  std::istringstream in(passwd);
  for (std::string line; std::getline(in, line);) {
    // name:password:uid:...
    size_t a = line.find(':');
    size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    size_t c = b == std::string::npos ? b : line.find(':', b + 1);
    if (c == std::string::npos || a == 0) continue;
    if (line.compare(b + 1, c - b - 1, std::to_string(uid)) == 0) return line.substr(0, a);
  }
  return "#" + std::to_string(uid);
}

namespace {

pid_t shown_pid(const BundleListing& l) { return l.status == "stopped" ? 0 : l.state.pid; }

}  // namespace

std::string bundle_list_table(const std::vector<BundleListing>& list, const std::string& passwd) {
  std::vector<std::array<std::string, 6>> rows = {{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  for (const auto& l : list)
    rows.push_back({l.state.id, std::to_string(shown_pid(l)), l.status, l.state.bundle, l.state.created,
                    owner_name(l.owner, passwd)});
  std::array<size_t, 6> width{};
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max({width[i], r[i].size() + 3, size_t{12}});
  std::string out;
  for (const auto& r : rows) {
    for (size_t i = 0; i + 1 < r.size(); ++i) out += r[i] + std::string(width[i] - r[i].size(), ' ');
    out += r.back() + "\n";
  }
  return out;
}

std::string bundle_list_json(const std::vector<BundleListing>& list, const std::string& passwd) {
  if (list.empty()) return "null\n";
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& l : list)
    arr.push_back({{"ociVersion", "1.0.2"},
                   {"id", l.state.id},
                   {"pid", shown_pid(l)},
                   {"status", l.status},
                   {"bundle", l.state.bundle},
                   {"rootfs", l.state.rootfs},
                   {"created", l.state.created},
                   {"annotations", l.state.annotations},
                   {"owner", owner_name(l.owner, passwd)}});
  return json_text(arr) + "\n";
}

}  // namespace kiln::runtime
