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
  m_text = std::move(*text);
  // One line per file: size mtime ctime ino hex path. Parsed by hand: this runs on every build.
  const char* p = m_text.data();
  const char* end = p + m_text.size();
  m_loaded.reserve(static_cast<size_t>(std::count(p, end, '\n')));
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (!nl) nl = end;
    Entry e;
    char* q;
    e.size = std::strtoll(p, &q, 10);
    e.mtime_ns = std::strtoll(q, &q, 10);
    e.ctime_ns = std::strtoll(q, &q, 10);
    e.ino = std::strtoull(q, &q, 10);
    if (q + 66 < nl && *q == ' ' && q[65] == ' ') {
      e.hex = std::string_view(q + 1, 64);  // checked when used
      e.path = std::string_view(q + 66, static_cast<size_t>(nl - (q + 66)));
      m_loaded.push_back(e);
    }
    p = nl + 1;
  }
  m_used.assign(m_loaded.size(), false);
}

StatCache::Entry* StatCache::find_loaded(std::string_view path) {
  if (m_cursor < m_loaded.size() && m_loaded[m_cursor].path == path) return &m_loaded[m_cursor++];
  if (m_index.empty() && !m_loaded.empty()) {
    m_index.reserve(m_loaded.size());
    for (size_t i = 0; i < m_loaded.size(); ++i) m_index.emplace(m_loaded[i].path, i);  // the first line of a path wins
  }
  auto it = m_index.find(path);
  if (it == m_index.end()) return nullptr;
  m_dirty = true;  // saved again in this build's order, so the next one finds its entries in order
  m_cursor = it->second + 1;  // the requests may go on in order from there
  return &m_loaded[it->second];
}

Status StatCache::save() {
  if (!m_dirty) return {};
  std::string out;
  out.reserve((m_loaded.size() + m_fresh.size()) * 120);
  auto line = [&](const Entry& e) {
    out += std::to_string(e.size) + " " + std::to_string(e.mtime_ns) + " " + std::to_string(e.ctime_ns) + " " +
           std::to_string(e.ino) + " ";
    out.append(e.hex);
    out += ' ';
    out.append(e.path);
    out += '\n';
  };
  for (const auto& [fresh, i] : m_order) line(fresh ? m_fresh[i] : m_loaded[i]);
  for (size_t i = 0; i < m_loaded.size(); ++i)
    if (!m_used[i] && !m_fresh_index.count(m_loaded[i].path)) line(m_loaded[i]);
  m_dirty = false;
  std::string dir = m_path.substr(0, m_path.rfind('/'));
  TRY(make_dirs(dir, 0700));
  (void)::unlink((dir + "/../context-stat").c_str());  // the one file every context shared, before kiln 2026-12-06
  return cas::write_file_atomic(m_path, out, true, m_temp_dir);
}

Result<cas::Digest> StatCache::digest(const std::string& path, const struct stat& st) {
  int64_t mt = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  int64_t ct = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  auto same = [&](const Entry& e) {
    return e.size == st.st_size && e.mtime_ns == mt && e.ctime_ns == ct && e.ino == st.st_ino;
  };
  if (auto f = m_fresh_index.empty() ? m_fresh_index.end() : m_fresh_index.find(path);
      f != m_fresh_index.end() && same(m_fresh[f->second]))
    return cas::Digest::from_hex(std::string(m_fresh[f->second].hex));  // hashed earlier in this build
  if (Entry* e = find_loaded(path)) {
    size_t i = static_cast<size_t>(e - m_loaded.data());
    if (same(*e) && cas::is_sha256_hex(e->hex)) {
      if (!m_used[i]) m_order.emplace_back(false, i);
      m_used[i] = true;
      return cas::Digest::from_hex(std::string(e->hex));
    }
    m_used[i] = true;  // stale: replaced by what is hashed below
  }
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
  remember(path, Entry{{}, st.st_size, mt, ct, static_cast<uint64_t>(st.st_ino), {}}, d);
  m_dirty = true;
  ++m_hashed;
  return d;
}

void StatCache::remember(const std::string& path, Entry e, const cas::Digest& d) {
  auto it = m_fresh_index.find(path);
  size_t i = it != m_fresh_index.end() ? it->second : m_fresh.size();
  if (it == m_fresh_index.end()) {
    m_fresh_paths.push_back(path);
    m_fresh_hex.push_back(d.hex());
    m_fresh.push_back(e);
    m_fresh_index.emplace(m_fresh_paths.back(), i);
    m_order.emplace_back(true, i);
  } else {
    m_fresh_hex[i] = d.hex();  // it changed while this build ran, and was hashed again
  }
  e.path = m_fresh_paths[i];
  e.hex = m_fresh_hex[i];
  m_fresh[i] = e;
}

}  // namespace kiln::builder
