// The seccomp program cache: <store>/kiln/cache/seccomp/<build-id>-<sha256 of the key>.
#include "runtime/seccomp_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>

#include "cas/digest.h"
#include "cas/store.h"
#include "common/build_id.h"
#include "common/fd.h"

namespace kiln::runtime {

namespace {

Result<SeccompFilter> build_filter(const std::string& profile, const std::string& text, CapSet caps) {
  if (profile.empty()) return default_seccomp(caps);
  return seccomp_from_json(text, profile, caps);
}

/// A cached program, or nothing when absent or not to be trusted: it must be a regular file of ours that
/// nobody else can write, holding a whole number of instructions.
std::optional<SeccompProgram> read_cached(const std::string& path) {
  int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (raw < 0) return std::nullopt;
  UniqueFd fd(raw);
  struct stat st;
  if (::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 022))
    return std::nullopt;
  return SeccompProgram::read(fd.get(), st.st_size);
}

}  // namespace

Result<SeccompProgram> cached_seccomp(const std::string& cache_dir, CapSet caps, const std::string& kind,
                                      const std::string& text, const std::function<Result<SeccompProgram>()>& compile) {
  const std::string& build = build_id_hex();
  if (cache_dir.empty() || build.empty()) return compile();
  // libseccomp asks the kernel which actions it supports while compiling, so the kernel is part of the key.
  struct utsname u {};
  ::uname(&u);
  char capshex[17];
  std::snprintf(capshex, sizeof capshex, "%016llx", static_cast<unsigned long long>(caps));
  std::string full = "kiln seccomp\n" + build + "\n" + u.release + " " + u.version + " " + u.machine + "\n" + capshex +
                     "\n" + kind + "\n" + text;
  std::string path = cache_dir + "/" + build + "-" + cas::sha256_of(full).hex();
  if (auto cached = read_cached(path)) return std::move(*cached);
  SeccompProgram p = TRY(compile());
  // Best effort: a cache that cannot be written only costs the next start the compile again.
  if (!p.empty() && make_dirs(cache_dir, 0700).ok()) {
    std::string_view bytes(reinterpret_cast<const char*>(p.insns.data()), p.insns.size() * sizeof(struct sock_filter));
    (void)cas::write_file_atomic(path, bytes, false);
  }
  return p;
}

Result<SeccompProgram> seccomp_program(const std::string& profile, CapSet caps, const std::string& cache_dir) {
  if (profile == "unconfined") return SeccompProgram();
  std::string text;
  if (!profile.empty()) text = TRY(read_file(profile));
  return cached_seccomp(cache_dir, caps, profile.empty() ? "default" : "json", text,
                        [&]() -> Result<SeccompProgram> { return TRY(build_filter(profile, text, caps)).compile(); });
}

void prune_seccomp_cache(const std::string& cache_dir) {
  auto names = list_dir(cache_dir);
  if (!names) return;
  const std::string& build = build_id_hex();
  for (const auto& name : *names) {
    bool current = !build.empty() && name.starts_with(build + "-") && name.find(".tmp-") == std::string::npos;
    if (!current) ::unlink((cache_dir + "/" + name).c_str());
  }
}

}  // namespace kiln::runtime
