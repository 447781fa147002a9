// An OCI bundle's config.json (runtime-spec 1.x), as kiln-runtime reads it: what the container runs, its root,
// mounts, namespaces and limits. Everything is checked here, before anything is made, so a bad bundle is one
// error line and leaves nothing behind.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/bundle_cgroups.h"
#include "runtime/bundle_hooks.h"
#include "runtime/caps.h"
#include "runtime/devices.h"
#include "runtime/spec.h"

namespace kiln::runtime {

struct BundleMount {
  std::string destination, type, source;
  std::vector<std::string> options;
};

struct BundleNamespace {
  int flag = 0;      ///< CLONE_NEW*
  std::string path;  ///< join this one instead of making a new one
};

struct BundleDevice {
  std::string path;
  char type = 'c';  ///< c, b, u or p
  uint32_t major = 0, minor = 0;
  uint32_t mode = 0666, uid = 0, gid = 0;
};

/// One line of a user namespace's uid_map or gid_map.
struct IdMapping {
  uint32_t container_id = 0, host_id = 0, size = 0;
};

struct BundleConfig {
  std::string bundle;  ///< absolute path of the bundle directory
  std::string oci_version;
  // process
  bool terminal = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> additional_gids;
  std::optional<mode_t> umask;
  std::vector<std::string> args, env;
  std::string cwd = "/";
  CapSets caps;  ///< process.capabilities, each set
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
  // root and the rest
  std::string root;  ///< absolute path of the root filesystem
  bool root_readonly = false;
  std::string hostname, domainname;
  std::vector<BundleMount> mounts;
  std::vector<BundleNamespace> namespaces;
  std::vector<IdMapping> uid_mappings, gid_mappings;  ///< for a new user namespace
  std::vector<BundleDevice> devices;
  std::vector<std::string> masked_paths, readonly_paths;
  std::map<std::string, std::string> sysctl;
  std::string seccomp_json;  ///< linux.seccomp as JSON text ("" for none)
  std::string rootfs_propagation;
  std::string cgroups_path;
  BundleResources resources;
  struct TimeOffset {
    std::string clock;  ///< monotonic or boottime
    int64_t secs = 0, nanosecs = 0;
  };
  std::vector<TimeOffset> time_offsets;  ///< linux.timeOffsets, for a new time namespace
  std::optional<unsigned long> personality;  ///< linux.personality (PER_LINUX or PER_LINUX32)
  std::vector<DeviceRule> device_rules;  ///< linux.resources.devices, in order
  std::map<std::string, std::string> annotations;
  BundleHooks hooks;
  std::string hooks_json;  ///< the "hooks" object as given ("" for none), kept in the state for start and delete

  bool has_namespace(int flag) const;
  /// The device rules the container's cgroup gets: the config's own, an allow rule for each of linux.devices,
  /// then docker's default list (as runc appends its own).
  std::vector<DeviceRule> effective_device_rules() const;
};

/// Read and check <bundle>/config.json. Errors name the file and the field at fault.
Result<BundleConfig> load_bundle_config(const std::string& bundle);
/// Parse config.json text (the bundle path only resolves root.path and names errors).
Result<BundleConfig> parse_bundle_config(const std::string& text, const std::string& bundle);
/// c with its process replaced by the runtime spec's process object in text (`kiln-runtime exec --process`).
Result<BundleConfig> with_process(BundleConfig c, const std::string& text, const std::string& file);
/// A linux.resources object (`kiln-runtime update --resources`), checked; errors name file.
Result<BundleResources> parse_bundle_resources(const std::string& text, const std::string& file);
/// runc's default config.json (`kiln-runtime spec`): sh in a read-only busybox-style root, default mounts,
/// masked and read-only paths, docker's capabilities.
std::string default_bundle_config();

}  // namespace kiln::runtime
