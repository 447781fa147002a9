// Image-spec types: descriptor, manifest, index, platform, image config (with history and Healthcheck).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cas/digest.h"

namespace kiln::oci {

struct Platform {
  std::string architecture = "amd64";
  std::string os = "linux";
  std::string variant;
};

struct Descriptor {
  std::string media_type;
  cas::Digest digest;
  uint64_t size = 0;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
};

struct Manifest {
  std::string media_type;  ///< as stated in the JSON (may be empty for OCI)
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;
};

struct Index {
  std::string media_type;
  std::vector<Descriptor> manifests;
};

/// Docker's Healthcheck, kept the way docker keeps it (durations in nanoseconds).
struct Healthcheck {
  std::vector<std::string> test;
  int64_t interval = 0, timeout = 0, start_period = 0, start_interval = 0;
  int retries = 0;
};

/// The "config" object of an image config: what a container runs with.
struct RunConfig {
  std::string user;
  std::vector<std::string> env;
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> cmd;
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::vector<std::string> exposed_ports;  ///< "80/tcp"
  std::vector<std::string> volumes;
  std::string stop_signal;
  std::optional<Healthcheck> healthcheck;
  std::vector<std::string> on_build;
  std::vector<std::string> shell;
  bool args_escaped = false;
};

struct HistoryEntry {
  std::string created;
  std::string created_by;
  std::string comment;
  bool empty_layer = false;
};

struct ImageConfig {
  std::string created;  ///< RFC 3339
  std::string author;
  Platform platform;
  RunConfig config;
  std::vector<cas::Digest> diff_ids;
  std::vector<HistoryEntry> history;
};

/// Parse the manifest JSON; checks schemaVersion and descriptors.
Result<Manifest> parse_manifest(std::string_view bytes);
Result<Index> parse_index(std::string_view bytes);
Result<ImageConfig> parse_config(std::string_view bytes);
/// The mediaType field of any manifest-like JSON (empty if absent).
Result<std::string> sniff_media_type(std::string_view bytes);
/// Canonical JSON (sorted keys, no spaces) for a new manifest/config: the exact bytes to store and digest.
std::string to_json(const Manifest& m);
std::string to_json(const Index& ix);
std::string to_json(const ImageConfig& c);
/// Pretty JSON of any of the above documents (for inspect).
std::string pretty_json(std::string_view bytes);
/// RFC 3339 UTC time ("2026-11-27T13:08:07Z") of a unix time.
std::string rfc3339(int64_t unix_seconds);
/// Parse RFC 3339 (fractional seconds and offsets allowed) to unix seconds; -1 if malformed.
int64_t parse_rfc3339(const std::string& s);

}  // namespace kiln::oci
