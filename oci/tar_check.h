// Checks a tarball's entries as they stream past, so `kiln import` refuses what the safe extractor would
// refuse at run time: nothing unsafe enters the store. The rules are the extractor's (oci/extract.cpp).
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "common/error.h"

struct archive;
struct archive_entry;

namespace kiln::oci {

class TarPathCheck {
 public:
  /// Refuses (ErrorCode::unsafe, naming the entry): a ".." component; a root entry ("./") that is not a
  /// directory; a path or hard link target whose parent passes through a symlink of the archive that is
  /// absolute or climbs out of the root.
  Status check(struct archive_entry* e);

 private:
  /// Where the directory comps leads, following the archive's symlinks while they stay beneath the root.
  Result<std::vector<std::string>> resolve(std::vector<std::string> comps, const std::string& name) const;
  std::unordered_map<std::string, std::string> m_links;  ///< entry path -> symlink target
};

/// libarchive's error text, never null (it has none for some failures of a compressed stream).
std::string archive_error_text(struct archive* a);

}  // namespace kiln::oci
