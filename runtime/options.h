// Parsing run flags the way docker does: -v, --mount, --tmpfs, --ulimit, --memory, --cpus, --add-host, --dns.
#pragma once

#include <string>

#include "common/error.h"
#include "runtime/spec.h"

namespace kiln::runtime {

/// -v HOST:CTR[:ro|rw]  (HOST must be an absolute path; named volumes are not supported)
Result<MountSpec> parse_volume(const std::string& v);
/// --mount type=bind|tmpfs,source=…,target=…[,readonly][,tmpfs-size=…][,tmpfs-mode=…]
Result<MountSpec> parse_mount(const std::string& v);
/// --tmpfs PATH[:size=…,mode=…]
Result<MountSpec> parse_tmpfs(const std::string& v);
/// A mount target must be absolute, free of "..", and not under /proc or /sys.
Status check_target(const std::string& target);
/// --ulimit name=soft[:hard]  (nofile, nproc, core, fsize, stack, memlock, cpu, …)
Result<Rlimit> parse_ulimit(const std::string& v);
/// 512m, 1g, 1048576 → bytes
Result<int64_t> parse_bytes(const std::string& v);
/// --add-host NAME:IP (or NAME=IP; an IPv6 address keeps its colons, as docker splits at the first one)
/// → the /etc/hosts line "IP\tNAME".
Result<std::string> parse_add_host(const std::string& v);
/// --dns IP: an IPv4 or IPv6 address.
Result<std::string> parse_dns_server(const std::string& v);
/// --dns-search DOMAIN: one word of /etc/resolv.conf's search line.
Result<std::string> parse_dns_search(const std::string& v);

}  // namespace kiln::runtime
