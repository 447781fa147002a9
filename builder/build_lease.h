// What a running build uses: the images it resolved (FROM, COPY --from, RUN --mount from=), written to
// <store>/kiln/builds/<pid>-<n> and flock-ed while the build runs, so `kiln rmi` can refuse them as docker does
// ("image is being used by running build"). gc needs none of it: a build holds the store's writer lock.
#pragma once

#include <string>
#include <vector>

#include "cas/store.h"
#include "common/fd.h"

namespace kiln::builder {

class BuildLease {
 public:
  /// The lease file of this build, made and locked (an error only when the store cannot hold it).
  static Result<BuildLease> open(const cas::Store& store);
  BuildLease() = default;
  BuildLease(BuildLease&&) = default;
  BuildLease& operator=(BuildLease&&) = default;
  ~BuildLease();
  /// Record an image ID ("sha256:…") the build reads.
  void add(const std::string& image_id);

 private:
  std::string m_path;
  UniqueFd m_fd;
  std::vector<std::string> m_ids;
};

/// Image IDs of the builds running on this store now; leases of builds that are gone are removed.
std::vector<std::string> images_in_running_builds(const cas::Store& store);

}  // namespace kiln::builder
