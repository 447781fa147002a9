// /proc/self/mountinfo read into lines: what the runtime asks of the host's mount table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::runtime {

/// One line of a mountinfo ("ID PARENT MAJ:MIN ROOT POINT OPTIONS [TAGS...] - TYPE SOURCE SUPER").
struct MountLine {
  uint64_t id = 0;            ///< the kernel's mount ID
  std::string point;          ///< the mount point, unescaped (mountinfo writes a space as \040)
  std::string type;           ///< the filesystem type ("cgroup", "tmpfs")
  std::string super_options;  ///< the superblock's options ("rw,memory" for a v1 memory hierarchy)
};

/// The lines of a mountinfo text, in its order (a parent before what is mounted on it); a malformed line is skipped.
std::vector<MountLine> parse_mountinfo(const std::string& text);
/// This process's mount table (empty if /proc cannot be read).
std::vector<MountLine> own_mountinfo();

}  // namespace kiln::runtime
