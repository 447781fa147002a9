// Build tar archives entry by entry for tests, including hostile ones no well-behaved tool would write.
#pragma once

#include <string>
#include <vector>

namespace kiln::test {

struct TarEntry {
  enum Type { file, dir, symlink, hardlink, chardev, fifo } type = file;
  std::string path;
  std::string content;  ///< file data, or the target of a symlink/hardlink
  int mode = 0644;
  int uid = 0, gid = 0;
  long mtime = 1000;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

/// An uncompressed PAX tar of the entries, in the given order.
std::string build_tar(const std::vector<TarEntry>& entries);

}  // namespace kiln::test
