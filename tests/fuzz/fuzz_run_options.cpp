// Fuzz target: what kiln run and exec read from their flags and files: -v, --mount, --tmpfs, --ulimit, sizes,
// --add-host, --dns, --dns-search, -p, --log-opt, signals, -u against an image's passwd/group, --env-file, the
// flag split.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cli/command.h"
#include "runtime/log_writer.h"
#include "runtime/options.h"
#include "runtime/process_config.h"
#include "runtime/publish.h"
#include "runtime/signals.h"
#include "runtime/user.h"

using namespace kiln;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string v(reinterpret_cast<const char*>(data), size);
  (void)runtime::parse_volume(v);
  (void)runtime::parse_mount(v);
  (void)runtime::parse_tmpfs(v);
  (void)runtime::parse_ulimit(v);
  (void)runtime::parse_bytes(v);
  (void)runtime::parse_add_host(v);
  (void)runtime::parse_dns_server(v);
  (void)runtime::parse_dns_search(v);
  if (auto ports = runtime::parse_publish(v)) (void)runtime::ports_text(*ports);
  (void)runtime::signal_from_name(v);
  (void)runtime::parse_env_file(v, "env");
  (void)runtime::parse_log_opts({v});
  size_t nl = v.find('\n');
  std::string spec = v.substr(0, nl), files = nl == std::string::npos ? "" : v.substr(nl + 1);
  (void)runtime::resolve_user(spec, files, files);
  std::vector<std::string> args;
  for (size_t at = 0; at <= v.size();) {
    size_t sp = v.find(' ', at);
    args.push_back(v.substr(at, sp == std::string::npos ? std::string::npos : sp - at));
    if (sp == std::string::npos) break;
    at = sp + 1;
  }
  auto kind = [](const std::string& f) {
    if (f == "-e" || f == "--env" || f == "-u") return cli::FlagKind::value;
    if (f == "-t" || f == "-i" || f == "-d") return cli::FlagKind::flag;
    return cli::FlagKind::unknown;
  };
  (void)cli::split_at_target(kind, args);
  return 0;
}
