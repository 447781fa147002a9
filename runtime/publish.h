// Published ports (-p, -P) and the user-mode network helper behind them: pasta (Debian's passt), started for the
// container's own network namespace by the kiln that supervises the container and ended with it. pasta gives the
// namespace an interface with the host's addresses and routes (outbound traffic leaves through the host's
// sockets, no bridge, no iptables) and listens on the host ports, forwarding each to the container's port.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace kiln::runtime {

struct PublishedPort {
  std::string host_ip;     ///< empty: every address, as docker binds 0.0.0.0
  uint16_t host_port = 0;  ///< 0: a free one, chosen when the container starts
  uint16_t container_port = 0;
  std::string proto = "tcp";  ///< tcp or udp
};

/// docker's -p forms: CPORT, HPORT:CPORT, IP:HPORT:CPORT, IP::CPORT, each with /tcp or /udp, and ranges of
/// equal length (8000-8001:80-81). One error line names the bad spec.
Result<std::vector<PublishedPort>> parse_publish(const std::string& spec);
/// The image's EXPOSEd ports ("80/tcp"), each on a free host port: -P.
Result<std::vector<PublishedPort>> publish_all(const std::vector<std::string>& exposed);
/// Free host ports for those given as 0 (bound and released: the kernel picks from its ephemeral range); a port
/// given that is in use already is refused in one line.
Status choose_host_ports(std::vector<PublishedPort>& ports);
/// "0.0.0.0:8080->80/tcp, …", as docker ps shows them.
std::string ports_text(const std::vector<PublishedPort>& ports);

/// pasta for one container: its network namespace (an fd) connected to the host, the ports forwarded. The
/// process is kiln's child, killed should kiln die (PR_SET_PDEATHSIG) and ended by stop() or the destructor.
class PortForwarder {
 public:
  PortForwarder() = default;
  PortForwarder(PortForwarder&& o) noexcept : m_pid(o.m_pid) { o.m_pid = -1; }
  PortForwarder& operator=(PortForwarder&& o) noexcept;
  ~PortForwarder() { stop(); }

  /// Start pasta on netns and return once its ports listen. prefix starts the paths of its files while it starts
  /// (its pid file, its log, the namespace's name), in a directory of kiln's alone; they are gone on return. Call
  /// from the thread that lives as long as the container.
  static Result<PortForwarder> start(int netns, const std::vector<PublishedPort>& ports, const std::string& prefix);
  void stop();

 private:
  pid_t m_pid = -1;
};

}  // namespace kiln::runtime
