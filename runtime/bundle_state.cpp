// kiln-runtime's state files.
#include "runtime/bundle_state.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "cas/store.h"
#include "common/fd.h"
#include "common/json.h"
#include "runtime/bundle_cgroups.h"
#include "runtime/state.h"

namespace kiln::runtime {

Status check_container_id(const std::string& id) {
  bool ok = !id.empty() && id.size() <= 1024 && id[0] != '.';
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '-' || c == '.')) ok = false;
  if (!ok)
    return make_error(ErrorCode::invalid_argument,
                      "invalid container id \"" + id + "\": use letters, digits, _ + - . (not starting with .)");
  return {};
}

std::string bundle_state_dir(const std::string& root, const std::string& id) { return root + "/" + id; }
std::string exec_fifo_path(const std::string& root, const std::string& id) {
  return bundle_state_dir(root, id) + "/exec.fifo";
}

Status save_bundle_state(const std::string& root, const BundleState& st) {
  nlohmann::json j = {{"id", st.id},
                      {"bundle", st.bundle},
                      {"rootfs", st.rootfs},
                      {"created", st.created},
                      {"pid", st.pid},
                      {"pid_start", st.pid_start},
                      {"cgroups", st.cgroups},
                      {"annotations", st.annotations},
                      {"cgroup_path", st.cgroup_path}};
  if (!st.hooks_json.empty()) j["hooks"] = parse_json(st.hooks_json);
  for (const auto& m : st.host_mounts) j["host_mounts"].push_back({{"id", m.id}, {"path", m.path}});
  return cas::write_file_atomic(bundle_state_dir(root, st.id) + "/state.json", json_text(j), false);
}

Result<BundleState> load_bundle_state(const std::string& root, const std::string& id) {
  TRY(check_container_id(id));
  auto text = read_file(bundle_state_dir(root, id) + "/state.json", 1u << 20);
  if (!text) return make_error(ErrorCode::not_found, "container \"" + id + "\" does not exist");
  try {
    auto j = parse_json(*text);
    BundleState st;
    st.id = j.at("id").get<std::string>();
    st.bundle = j.at("bundle").get<std::string>();
    st.rootfs = j.value("rootfs", "");
    st.created = j.value("created", "");
    st.pid = static_cast<pid_t>(json_int(j, "pid", 0, 0, INT32_MAX));
    st.pid_start = json_uint(j, "pid_start", 0);
    if (j.contains("cgroups")) st.cgroups = j.at("cgroups").get<std::vector<std::string>>();
    if (j.contains("annotations")) st.annotations = j.at("annotations").get<std::map<std::string, std::string>>();
    st.cgroup_path = j.value("cgroup_path", "");
    if (j.contains("hooks")) st.hooks_json = json_text(j.at("hooks"));
    if (j.contains("host_mounts"))
      for (const auto& m : j.at("host_mounts"))
        st.host_mounts.push_back(HostMount{m.at("id").get<uint64_t>(), m.at("path").get<std::string>()});
    if (st.id != id) return make_error(ErrorCode::corrupt, "container \"" + id + "\": its state names another id");
    return st;
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::corrupt, "container \"" + id + "\": state.json is malformed: " + e.what());
  }
}

bool bundle_process_alive(const BundleState& st) {
  return same_live_process(st.pid, st.pid_start);  // a zombie has exited: for the spec it is stopped
}

std::string bundle_status(const std::string& root, const BundleState& st) {
  if (!bundle_process_alive(st)) return "stopped";
  if (path_exists(exec_fifo_path(root, st.id))) return "created";
  return bundle_cgroup_frozen(st.cgroups) ? "paused" : "running";
}

nlohmann::json bundle_state_object(const BundleState& st, const std::string& status) {
  return {
      {"ociVersion", "1.0.2"}, {"id", st.id},         {"status", status},      {"pid", bundle_shown_pid(st, status)},
      {"bundle", st.bundle},   {"rootfs", st.rootfs}, {"created", st.created}, {"annotations", st.annotations}};
}

std::string bundle_state_json(const std::string& root, const BundleState& st) {
  return json_text(bundle_state_object(st, bundle_status(root, st)), 2) + "\n";
}

}  // namespace kiln::runtime
