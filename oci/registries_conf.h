// registries.conf as podman, buildah and skopeo read it (containers-registries.conf(5)): mirrors, insecure and
// blocked registries, a prefix moved to another location, and the registries a short name is looked up in.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "oci/reference.h"

namespace kiln::oci {

struct RegistryEndpoint {
  std::string location;                  ///< host[:port][/path]
  bool insecure = false;                 ///< plain HTTP and unverified TLS allowed
  std::string pull_from_mirror = "all";  ///< a mirror's: all, digest-only, tag-only
};

struct RegistryEntry {
  std::string prefix;  ///< the references it is for: host[:port][/path], or *.domain
  RegistryEndpoint primary;
  bool blocked = false;
  std::vector<RegistryEndpoint> mirrors;
};

struct RegistriesConf {
  std::string path;                 ///< the file read ("" when there is none)
  std::vector<std::string> search;  ///< unqualified-search-registries, in order
  std::vector<RegistryEntry> registries;

  /// Version 2 ([[registry]] tables) or version 1 ([registries.search|insecure|block] lists); errors name path
  /// and, for TOML syntax, the line.
  static Result<RegistriesConf> parse(const std::string& text, const std::string& path);
  /// The file podman would read: $CONTAINERS_REGISTRIES_CONF, else ~/.config/containers/registries.conf when it
  /// exists, else /etc/containers/registries.conf; no file is an empty configuration.
  static Result<RegistriesConf> load();
  /// The entry whose prefix matches ref's repository longest; nullptr when none does.
  const RegistryEntry* find(const Reference& ref) const;
};

/// Where a reference is fetched from or sent to, and how.
struct RegistrySource {
  Reference ref;                   ///< the reference at that place (a mirror's or the moved location's)
  std::optional<bool> tls_verify;  ///< false for an insecure registry; unset otherwise
  bool mirror = false;
};

/// Where to pull ref from, in order: its registry's mirrors (those its pull-from-mirror allows), then the
/// registry (at its location). An error when the registry is blocked.
Result<std::vector<RegistrySource>> pull_sources(const RegistriesConf& conf, const Reference& ref);
/// Where to push ref: the registry at its location (mirrors never take pushes). An error when it is blocked.
Result<RegistrySource> push_target(const RegistriesConf& conf, const Reference& ref);
/// The references a name stands for. A name with a registry (or, with no unqualified-search-registries, any
/// name: docker.io, as docker) stands for itself; a short name for itself at each search registry, in order.
Result<std::vector<Reference>> name_candidates(const RegistriesConf& conf, const std::string& name);

}  // namespace kiln::oci
