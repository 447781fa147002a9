// Stat cache.
#include "builder/stat_cache.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "cas/store.h"
#include "common/fd.h"

namespace kiln::builder {

std::string StatCache::path_for(const std::string& dir, const std::string& context_dir) {
  char real[PATH_MAX];
  std::string where = ::realpath(context_dir.c_str(), real) ? std::string(real) : context_dir;
  return dir + "/" + cas::sha256_of(where).hex().substr(0, 32);
}

void StatCache::load() {
  auto text = read_file(m_path, 256u << 20);
  if (!text) return;
  // One line per file: size mtime ctime ino hex path. Parsed by hand: this runs on every build.
  const char* p = text->data();
  const char* end = p + text->size();
  m_entries.reserve(static_cast<size_t>(std::count(p, end, '\n')));
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (!nl) nl = end;
    Entry e;
    char* q;
    e.size = std::strtoll(p, &q, 10);
    e.mtime_ns = std::strtoll(q, &q, 10);
    e.ctime_ns = std::strtoll(q, &q, 10);
    e.ino = std::strtoull(q, &q, 10);
    if (q + 66 <= nl && *q == ' ' && q[65] == ' ') {
      e.hex.assign(q + 1, 64);
      std::string path(static_cast<const char*>(q + 66), nl);
      if (cas::is_sha256_hex(e.hex) && !path.empty()) m_entries.emplace(std::move(path), std::move(e));
    }
    p = nl + 1;
  }
}

Status StatCache::save() {
  if (!m_dirty) return {};
  std::string out;
  out.reserve(m_entries.size() * 120);
  for (const auto& [path, e] : m_entries)
    out += std::to_string(e.size) + " " + std::to_string(e.mtime_ns) + " " + std::to_string(e.ctime_ns) + " " +
           std::to_string(e.ino) + " " + e.hex + " " + path + "\n";
  m_dirty = false;
  std::string dir = m_path.substr(0, m_path.rfind('/'));
  TRY(make_dirs(dir, 0700));
  (void)::unlink((dir + "/../context-stat").c_str());  // the one file every context shared, before kiln 2026-12-06

  return cas::write_file_atomic(m_path, out);
}

Result<cas::Digest> StatCache::digest(const std::string& path, const struct stat& st) {
  int64_t mt = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  int64_t ct = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  auto it = m_entries.find(path);
  if (it != m_entries.end() && it->second.size == st.st_size && it->second.mtime_ns == mt &&
      it->second.ctime_ns == ct && it->second.ino == st.st_ino)
    return cas::Digest::from_hex(it->second.hex);
  UniqueFd fd = TRY(open_fd(path, O_RDONLY | O_NOFOLLOW));
  cas::Sha256 h;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read " + path);
    }
    if (n == 0) break;
    h.update(buf, static_cast<size_t>(n));
  }
  cas::Digest d = h.finish();
  m_entries[path] = Entry{st.st_size, mt, ct, st.st_ino, d.hex()};
  m_dirty = true;
  ++m_hashed;
  return d;
}

}  // namespace kiln::builder
