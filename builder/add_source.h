// ADD's extras over COPY: local tar archives (any compression) are extracted; URLs are fetched (libcurl)
// and checked against --checksum.
#pragma once

#include <optional>
#include <string>

#include "builder/copy.h"
#include "cas/digest.h"
#include "common/error.h"

namespace kiln::builder {

/// True if the file is a tar archive, plain or compressed (gzip, zstd, xz, bzip2), as ADD extracts.
bool is_local_archive(const std::string& path);

/// A tar stream extract_tar can read from path: path itself when it is plain, gzip or zstd; else (bzip2, xz,
/// lz4, …) a plain copy decompressed by libarchive into tmp_file.
Result<std::string> tar_readable_by_kiln(const std::string& path, const std::string& tmp_file);

/// ADD's local archives: when every source (and wildcard match) of req is a tar archive, extract them all
/// into dir (made here) and point req at it, owners kept, as BuildKit extracts them; false (req unchanged)
/// when some source is not an archive, and ADD copies. label starts each error line.
Result<bool> extract_local_archives(CopyRequest& req, const std::string& dir, const std::string& label);

/// Download url into dest_file; verify it against checksum ("sha256:…") when given. Returns the content digest.
Result<cas::Digest> fetch_url(const std::string& url, const std::string& dest_file,
                              const std::optional<std::string>& checksum);

/// "https://host/a/b.tar.gz?x" → "b.tar.gz" (the name ADD gives a downloaded file).
std::string url_basename(const std::string& url);

}  // namespace kiln::builder
