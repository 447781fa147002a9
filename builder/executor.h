// kiln build: runs the stages a target needs, step by step, with the cache, and commits the image.
#pragma once

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cas/store.h"
#include "oci/media_types.h"

namespace kiln::builder {

struct BuildOptions {
  std::string context_dir;
  std::string buildfile;                      ///< path; empty: Buildfile, Containerfile, Dockerfile in the context
  std::optional<std::string> buildfile_text;  ///< the Buildfile itself (`-f -` reads it from stdin), named "<stdin>"
  std::vector<std::string> tags;
  std::map<std::string, std::string> build_args;
  std::map<std::string, std::string> labels;
  std::string target;
  bool no_cache = false;
  bool quiet = false;
  int display_fd = -1;               ///< a terminal for the live display (--progress tty); -1: plain lines to out
  std::optional<int64_t> timestamp;  ///< --timestamp or SOURCE_DATE_EPOCH
  oci::media::Compression compression = oci::media::Compression::gzip;
  std::string network = "host";                ///< RUN's network: host (default, so apt-get works) or none
  std::map<std::string, std::string> secrets;  ///< --secret id=…,src=…: id → host file
  std::map<std::string, std::string> ssh_agents;  ///< --ssh id[=socket]: id → an ssh agent's socket
  std::string pull = "missing";                ///< FROM images: pull when missing, always, or never
  int jobs = 0;                                ///< stages built at once (--jobs); 0: as many as kiln's CPUs
};

/// What a build produced.
struct BuildResult {
  std::string image_id;  ///< config digest
  std::string manifest_digest;
  size_t steps = 0, cached = 0;
};

/// Build; progress lines go to out (nothing with quiet). Nothing is tagged unless every step succeeds.
Result<BuildResult> build(cas::Store& store, const BuildOptions& opts, std::ostream& out);

/// Find the Buildfile: the given path, else Buildfile, Containerfile, Dockerfile in the context.
Result<std::string> find_buildfile(const std::string& context_dir, const std::string& given);

}  // namespace kiln::builder
