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

/// ADD's local archives: the sources (and wildcard matches) of req that are tar archives are extracted into dir
/// (made here), their whiteouts kept as overlay whiteouts so that the layer deletes what they name in the
/// destination. Returns the request that copies the extracted files (owners kept, as BuildKit keeps them), or
/// nothing when no source is an archive; req keeps the other sources (none left: req.sources is empty).
/// label starts each error line.
Result<std::optional<CopyRequest>> split_local_archives(CopyRequest& req, const std::string& dir,
                                                       const std::string& label);

/// Download url into dest_file; verify it against checksum ("sha256:…") when given. Returns the content digest.
Result<cas::Digest> fetch_url(const std::string& url, const std::string& dest_file,
                              const std::optional<std::string>& checksum);

/// "https://host/a/b.tar.gz?x" → "b.tar.gz" (the name ADD gives a downloaded file).
std::string url_basename(const std::string& url);

}  // namespace kiln::builder
