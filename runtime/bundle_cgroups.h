// kiln-runtime's cgroups for a bundle's container: linux.cgroupsPath (else kiln-runtime/<id>) in the v2
// hierarchy, holding the device allow list, and each limit of linux.resources in v2 where its controller is
// there, else in the v1 hierarchy of that controller (hybrid hosts), linux.resources.unified in v2 alone; a limit
// the host has no file for is refused, never dropped; `update` writes new limits the same way, `pause` and
// `resume` use v2's cgroup.freeze.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "runtime/devices.h"

namespace kiln::runtime {

/// linux.resources as kiln-runtime applies it; an absent field leaves the cgroup's value alone. -1 is
/// "unlimited" where the spec allows it (memory, pids, cpu quota).
struct BundleResources {
  std::optional<int64_t> memory_limit, pids_limit;
  std::optional<int64_t> memory_reservation, memory_swap, memory_kernel_tcp;
  std::optional<int64_t> memory_swappiness;  ///< 0-100
  bool disable_oom_killer = false;
  std::optional<int64_t> cpu_quota, cpu_period, cpu_shares, cpu_rt_runtime, cpu_rt_period;
  std::optional<std::string> cpuset_cpus, cpuset_mems;
  /// linux.resources.blockIO: a weight (10-1000) for all devices and per device, and throttles per device.
  struct DeviceValue {
    int64_t major = 0, minor = 0, value = 0;
  };
  std::optional<int64_t> blkio_weight, blkio_leaf_weight;
  std::vector<DeviceValue> blkio_weight_device, blkio_leaf_weight_device, throttle_read_bps, throttle_write_bps,
      throttle_read_iops, throttle_write_iops;
  /// linux.resources.hugepageLimits: page size as the kernel names it ("2MB", "1GB") and its byte limit.
  std::vector<std::pair<std::string, int64_t>> hugepage_limits;
  /// linux.resources.unified: cgroup v2 files and their values, written last, as given.
  std::vector<std::pair<std::string, std::string>> unified;
};

/// The relative cgroup path of a container ("" on refusal: a systemd slice names no cgroupfs path).
Result<std::string> bundle_cgroup_path(const std::string& cgroups_path, const std::string& id);
/// Makes the container's cgroups and writes its limits; each directory made is added to made (v2 first), so the
/// caller can remove them when create fails later.
/// devices: the rules of its device program (attached to the v2 directory).
Status make_bundle_cgroups(const std::string& rel, const BundleResources& r, const std::vector<DeviceRule>& devices,
                           std::vector<std::string>& made);
/// Writes limits to a container's cgroups (`update`), making a v1 directory a new limit needs.
Status apply_bundle_resources(const std::string& rel, const BundleResources& r, std::vector<std::string>& dirs);
/// Removes the directories, retrying while the kernel finishes reaping.
void remove_bundle_cgroups(const std::vector<std::string>& dirs);
/// The processes in the container's cgroup (the first directory); nullopt when it cannot be read.
std::optional<std::vector<pid_t>> bundle_cgroup_pids(const std::vector<std::string>& dirs);
/// Freeze or thaw every process of the container (v2 cgroup.freeze), waiting until the kernel says it is done.
Status freeze_bundle_cgroup(const std::vector<std::string>& dirs, bool frozen);
/// True when the container's cgroup is frozen.
bool bundle_cgroup_frozen(const std::vector<std::string>& dirs);

}  // namespace kiln::runtime
