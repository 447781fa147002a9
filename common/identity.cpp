// Who kiln runs as (see identity.h).
#include "common/identity.h"

#include <stdlib.h>
#include <unistd.h>

#include <sstream>

#include "common/fd.h"

namespace kiln {

namespace {

/// The first line of /proc/self/uid_map: inside, outside, count.
struct MapLine {
  unsigned long inside = 0, outside = 0, count = 4294967295UL;
};

MapLine first_uid_map_line() {
  MapLine m;
  auto text = read_file("/proc/self/uid_map", 4096);
  if (!text) return m;  // no /proc: nothing to say otherwise
  std::istringstream in(*text);
  if (!(in >> m.inside >> m.outside >> m.count)) return MapLine{};
  return m;
}

}  // namespace

bool in_initial_user_namespace() {
  static const bool initial = [] {
    MapLine m = first_uid_map_line();
    return m.inside == 0 && m.outside == 0 && m.count == 4294967295UL;
  }();
  return initial;
}

bool rootless() { return ::geteuid() != 0 || (!in_initial_user_namespace() && ::getenv(kRootlessEnv) != nullptr); }

uid_t host_uid() {
  if (::geteuid() != 0) return ::geteuid();
  MapLine m = first_uid_map_line();
  return m.inside == 0 ? static_cast<uid_t>(m.outside) : 0;
}

const char* overlay_xattr_prefix() { return in_initial_user_namespace() ? "trusted.overlay." : "user.overlay."; }

std::string overlay_opaque_xattr() { return std::string(overlay_xattr_prefix()) + "opaque"; }

bool is_overlay_xattr(const std::string& name) {
  return name.rfind("trusted.overlay.", 0) == 0 || name.rfind("user.overlay.", 0) == 0;
}

}  // namespace kiln
