// ContainerSpec: everything the runtime needs to start one container, decided before any namespace exists.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/publish.h"

namespace kiln::runtime {

/// A mount inside the container, as `-v`, `--mount` and `--tmpfs` describe it.
struct MountSpec {
  enum class Type { bind, tmpfs } type = Type::bind;
  std::string source;  ///< host path (bind)
  std::string target;  ///< absolute path inside the container
  bool readonly = false;
  bool noexec = false;  ///< tmpfs
  std::string options;  ///< tmpfs data such as "size=64m,mode=1777"
  /// bind of a directory that takes writes and forgets them (RUN --mount=type=bind,rw): an overlay of the
  /// source under a throwaway tmpfs upper, so the source (the context, a layer tree) never changes.
  bool discard_writes = false;
};

struct Rlimit {
  int resource = 0;
  uint64_t soft = 0, hard = 0;
};

/// none: its own namespace with loopback only; pasta: its own namespace connected to the host's network by pasta,
/// with the published ports (publish.h); host: the host's.
enum class Network { none, pasta, host };

class StartAhead;

/// The process a container runs and the limits around it.
struct ContainerSpec {
  std::string id;                      ///< 64 hex
  std::string name;                    ///< --name, or a generated one
  std::string image;                   ///< what the user asked for (for ps)
  std::string image_digest, image_id;  ///< its manifest digest and image ID, which gc and rmi keep while it runs
  std::string store_root;              ///< the store the image is in
  std::vector<std::string> layers;     ///< unpacked layer trees, lowest first
  std::string upperdir;           ///< empty: read-only root (run); set: writable root whose changes land here (build)
  std::vector<std::string> args;  ///< argv; args[0] is looked up in the container's PATH
  std::vector<std::string> env;   ///< KEY=VALUE
  std::string cwd = "/";
  std::string user;  ///< user[:group] as given; resolved inside the container's /etc/passwd
  std::string hostname;
  std::vector<std::string> extra_hosts;  ///< --add-host, as /etc/hosts lines ("IP\tNAME")
  std::vector<std::string> dns_servers;  ///< --dns: nameservers of /etc/resolv.conf (empty: the default)
  std::vector<std::string> dns_search;   ///< --dns-search: its search domains (empty: the default)
  Network network = Network::none;
  std::vector<PublishedPort> ports;  ///< -p/-P, with Network::pasta
  std::vector<MountSpec> mounts;
  std::vector<std::string> cap_add, cap_drop;
  std::string seccomp_profile;  ///< "" default, "unconfined", or a JSON file path
  std::string seccomp_cache;    ///< where compiled seccomp programs are kept (seccomp_cache_dir), "" for nowhere
  /// kiln run sets no_new_privs; a RUN step does not, as BuildKit's do not (a setuid sudo works there).
  bool no_new_privileges = true;
  std::vector<Rlimit> rlimits;
  int64_t memory_bytes = 0;  ///< 0: no limit
  int64_t pids_limit = 0;
  double cpus = 0;
  bool init = false;  ///< a tiny reaper as pid 1
  bool tty = false;
  bool interactive = false;
  bool detached = false;
  std::string log_path;  ///< detached: where stdout/stderr go
  int stop_signal = 15;
  int stop_timeout = 10;  ///< seconds `kiln stop` waits before SIGKILL when not given -t
  /// Builds: SIGINT/SIGTERM/SIGHUP to kiln cancel the container (SIGKILL) instead of being forwarded.
  bool kill_on_interrupt = false;
  /// kiln run: the state file, cgroups and network namespace being made already (start_ahead.h), not owned;
  /// null: run_container makes them.
  StartAhead* ahead = nullptr;
  /// Called once the state file names the image (so gc and rmi see it in use): kiln run holds the store's
  /// writer lock from resolving the image until then, and releases it here.
  std::function<void()> state_saved;
};

}  // namespace kiln::runtime
