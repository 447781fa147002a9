// Linux capabilities: docker's default set, --cap-add/--cap-drop, and applying the sets before exec.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace kiln::runtime {

/// A capability set as a bit mask (bit n = capability n).
using CapSet = uint64_t;

/// docker's default: CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP
/// NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE.
CapSet default_caps();
/// Apply --cap-add / --cap-drop (names with or without CAP_, any case, or ALL) to the default set.
Result<CapSet> compute_caps(const std::vector<std::string>& add, const std::vector<std::string>& drop);
/// "CAP_CHOWN" → 0; -1 if unknown.
int cap_from_name(const std::string& name);
/// 0 → "CAP_CHOWN"; "" for a number kiln has no name for.
std::string cap_name(int cap);
/// Highest capability number the kernel knows.
int last_cap();

/// Child side, while still root: drop every capability not in caps from the bounding set. Returns errno or 0.
int drop_bounding(CapSet caps);
/// Child side, after switching user: for uid 0 effective = permitted = caps, for other users both empty
/// (docker's behaviour); inheritable and ambient empty. Returns errno or 0; never allocates.
int set_process_caps(CapSet caps, bool is_root);

/// The five sets of an OCI process (runtime-spec process.capabilities), bounding applied by drop_bounding.
struct CapSets {
  CapSet bounding = 0, effective = 0, permitted = 0, inheritable = 0, ambient = 0;
};
/// Child side, after switching user: effective, permitted and inheritable as given, then the ambient ones
/// raised. Returns errno or 0; never allocates.
int set_process_caps(const CapSets& sets);

}  // namespace kiln::runtime
