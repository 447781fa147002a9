// Capabilities.
#include "runtime/caps.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "common/fd.h"

namespace kiln::runtime {

namespace {
const char* const kNames[] = {"CHOWN",
                              "DAC_OVERRIDE",
                              "DAC_READ_SEARCH",
                              "FOWNER",
                              "FSETID",
                              "KILL",
                              "SETGID",
                              "SETUID",
                              "SETPCAP",
                              "LINUX_IMMUTABLE",
                              "NET_BIND_SERVICE",
                              "NET_BROADCAST",
                              "NET_ADMIN",
                              "NET_RAW",
                              "IPC_LOCK",
                              "IPC_OWNER",
                              "SYS_MODULE",
                              "SYS_RAWIO",
                              "SYS_CHROOT",
                              "SYS_PTRACE",
                              "SYS_PACCT",
                              "SYS_ADMIN",
                              "SYS_BOOT",
                              "SYS_NICE",
                              "SYS_RESOURCE",
                              "SYS_TIME",
                              "SYS_TTY_CONFIG",
                              "MKNOD",
                              "LEASE",
                              "AUDIT_WRITE",
                              "AUDIT_CONTROL",
                              "SETFCAP",
                              "MAC_OVERRIDE",
                              "MAC_ADMIN",
                              "SYSLOG",
                              "WAKE_ALARM",
                              "BLOCK_SUSPEND",
                              "AUDIT_READ",
                              "PERFMON",
                              "BPF",
                              "CHECKPOINT_RESTORE"};
constexpr int kKnown = sizeof kNames / sizeof kNames[0];
}  // namespace

int last_cap() {
  static int cached = -1;
  if (cached >= 0) return cached;
  cached = kKnown - 1;
  if (auto text = read_file("/proc/sys/kernel/cap_last_cap", 64); text && !text->empty())
    cached = std::min(std::atoi(text->c_str()), 63);
  return cached;
}

std::string cap_name(int cap) { return cap >= 0 && cap < kKnown ? std::string("CAP_") + kNames[cap] : ""; }

int cap_from_name(const std::string& name) {
  std::string n;
  for (char c : name) n += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (n.rfind("CAP_", 0) == 0) n = n.substr(4);
  for (int i = 0; i < kKnown; ++i)
    if (n == kNames[i]) return i;
  return -1;
}

CapSet default_caps() {
  CapSet s = 0;
  for (int c : {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW, CAP_SETGID, CAP_SETUID,
                CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE})
    s |= CapSet{1} << c;
  return s;
}

Result<CapSet> compute_caps(const std::vector<std::string>& add, const std::vector<std::string>& drop) {
  CapSet all = 0;
  for (int i = 0; i <= last_cap(); ++i) all |= CapSet{1} << i;
  CapSet s = default_caps();
  auto each = [&](const std::vector<std::string>& names, bool adding) -> Status {
    for (const auto& n : names) {
      std::string up;
      for (char c : n) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (up == "ALL") {
        s = adding ? all : 0;
        continue;
      }
      int c = cap_from_name(n);
      if (c < 0 || c > last_cap())
        return make_error(ErrorCode::invalid_argument,
                          "unknown capability \"" + n + "\" (use names like NET_ADMIN or CAP_NET_ADMIN)");
      if (adding)
        s |= CapSet{1} << c;
      else
        s &= ~(CapSet{1} << c);
    }
    return {};
  };
  // docker applies drops first, then adds, except that "--cap-drop ALL --cap-add X" keeps X.
  TRY(each(drop, false));
  TRY(each(add, true));
  return s;
}

int drop_bounding(CapSet caps) {
  int last = last_cap();
  for (int c = 0; c <= last; ++c)
    if (!(caps & (CapSet{1} << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) return errno;
  return 0;
}

int set_process_caps(CapSet caps, bool is_root) {
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) return errno;
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  CapSet eff = is_root ? caps : 0;
  data[0].effective = data[0].permitted = static_cast<uint32_t>(eff);
  data[1].effective = data[1].permitted = static_cast<uint32_t>(eff >> 32);
  if (syscall(SYS_capset, &hdr, data) < 0) return errno;
  return 0;
}

int set_process_caps(const CapSets& sets) {
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) return errno;
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  data[0].effective = static_cast<uint32_t>(sets.effective);
  data[1].effective = static_cast<uint32_t>(sets.effective >> 32);
  data[0].permitted = static_cast<uint32_t>(sets.permitted);
  data[1].permitted = static_cast<uint32_t>(sets.permitted >> 32);
  data[0].inheritable = static_cast<uint32_t>(sets.inheritable);
  data[1].inheritable = static_cast<uint32_t>(sets.inheritable >> 32);
  if (syscall(SYS_capset, &hdr, data) < 0) return errno;
  // An ambient capability needs to be permitted and inheritable; the kernel refuses the others (EPERM), as it
  // refuses them for runc: they are left out.
  for (int c = 0; c < 64; ++c)
    if (sets.ambient & (CapSet{1} << c)) (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
  return 0;
}

}  // namespace kiln::runtime
