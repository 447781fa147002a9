// Image config → runtime spec, as the image spec's conversion document lays it out.
#include "runtime/image_bundle.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "common/fd.h"
#include "common/json.h"

#include "runtime/bundle_config.h"
#include "runtime/caps.h"
#include "runtime/process_config.h"
#include "runtime/user.h"

namespace kiln::runtime {

namespace {

using json = nlohmann::json;

json cap_names(CapSet set) {
  json out = json::array();
  for (int c = 0; c < 64; ++c)
    if (set & (CapSet{1} << c)) out.push_back(cap_name(c));
  return out;
}

/// rel below rootfd read whole, resolved as if rootfd were /; "" for a missing or non-regular file.
Result<std::string> read_in_root(int rootfd, const char* rel) {
  UniqueFd fd(
      openat2_raw(rootfd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS));
  struct stat st {};
  if (fd.get() < 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return std::string();  // ELOOP: a link loop
    return sys_error(std::string("open ") + rel + " in the image");
  }
  if (::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode)) return std::string();
  return read_fd(fd.get(), 16u << 20);
}

}  // namespace

Result<std::string> image_bundle_config(const oci::ImageConfig& image, const std::string& passwd,
                                        const std::string& group) {
  const oci::RunConfig& rc = image.config;
  std::vector<std::string> args = rc.entrypoint.value_or(std::vector<std::string>{});
  if (rc.cmd) args.insert(args.end(), rc.cmd->begin(), rc.cmd->end());
  if (args.empty())
    return make_error(ErrorCode::invalid_argument,
                      "the image has neither an entrypoint nor a command, so its bundle would have nothing to run");
  auto user = resolve_user(rc.user, passwd, group);
  if (!user) return std::move(user).error().context("Config.User \"" + rc.user + "\"");

  json j = json::parse(default_bundle_config());
  json& p = j["process"];
  p["terminal"] = false;
  p["args"] = args;
  p["cwd"] = rc.working_dir.empty() ? "/" : rc.working_dir;
  std::vector<std::string> env = rc.env;
  if (!get_env(env, "PATH")) env.insert(env.begin(), std::string("PATH=") + kDefaultPath);
  if (!get_env(env, "HOME")) env.push_back("HOME=" + user->home);
  p["env"] = env;
  p["user"] = {{"uid", user->uid}, {"gid", user->gid}};
  if (!user->groups.empty()) p["user"]["additionalGids"] = user->groups;
  json all = cap_names(default_caps()), none = json::array();
  bool root = user->uid == 0;
  p["capabilities"] = {{"bounding", all}, {"effective", root ? all : none}, {"permitted", root ? all : none}};

  json a = json::object();
  const std::string prefix = "org.opencontainers.image.";
  auto put = [&](const std::string& key, const std::string& value) {
    if (!value.empty()) a[prefix + key] = value;
  };
  put("os", image.platform.os);
  put("architecture", image.platform.architecture);
  put("variant", image.platform.variant);
  put("author", image.author);
  put("created", image.created);
  put("stopSignal", rc.stop_signal);
  std::string ports;
  for (const auto& port : rc.exposed_ports) ports += (ports.empty() ? "" : ",") + port;
  put("exposedPorts", ports);
  for (const auto& [k, v] : rc.labels) a[k] = v;  // the image's own labels win
  if (!a.empty()) j["annotations"] = a;
  return json_text(j, 2) + "\n";  // a passwd home or a label that is not UTF-8: U+FFFD, not a throw
}

Result<std::string> image_bundle_config_for(const oci::ImageConfig& image, const std::string& rootfs) {
  UniqueFd root = TRY(open_fd(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC));
  std::string passwd = TRY(read_in_root(root.get(), "etc/passwd"));
  std::string group = TRY(read_in_root(root.get(), "etc/group"));
  return image_bundle_config(image, passwd, group);
}

}  // namespace kiln::runtime
