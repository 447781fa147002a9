// kiln-runtime list.
#include "runtime/bundle_list.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "common/fd.h"
#include "common/json.h"
#include "runtime/user.h"

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

std::string bundle_list_table(const std::vector<BundleListing>& list, const std::string& passwd) {
  std::vector<std::array<std::string, 6>> rows = {{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  for (const auto& l : list)
    rows.push_back({l.state.id, std::to_string(bundle_shown_pid(l.state, l.status)), l.status, l.state.bundle,
                    l.state.created, owner_name(l.owner, passwd)});
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
  for (const auto& l : list) {
    nlohmann::json j = bundle_state_object(l.state, l.status);
    j["owner"] = owner_name(l.owner, passwd);
    arr.push_back(std::move(j));
  }
  return json_text(arr) + "\n";
}

}  // namespace kiln::runtime
