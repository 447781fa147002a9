// `kiln build -`: stdin to a file in the store's tmp, then a tarball unpacked (safely: oci/extract) or a Buildfile.
#include "cli/stdin_context.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>

#include "common/fd.h"
#include "oci/compress.h"
#include "oci/extract.h"

namespace kiln::cli {

namespace {

enum class Kind { tar, compressed_tar, unsupported_compression, text };

/// What the first bytes of stdin say it is: docker takes a tarball (told by its compression's magic or by the
/// "ustar" of a tar header) and anything else as the Dockerfile.
Kind kind_of(const unsigned char* b, size_t n) {
  auto starts = [&](std::initializer_list<unsigned char> magic) {
    return n >= magic.size() && std::memcmp(b, magic.begin(), magic.size()) == 0;
  };
  if (oci::sniff_compression(b, n) != oci::media::Compression::none) return Kind::compressed_tar;
  if (starts({'B', 'Z', 'h'}) || starts({0xfd, '7', 'z', 'X', 'Z', 0x00})) return Kind::unsupported_compression;
  if (n >= 262 && std::memcmp(b + 257, "ustar", 5) == 0) return Kind::tar;
  return Kind::text;
}

}  // namespace

StdinContext::StdinContext(StdinContext&& o) noexcept
    : m_lock(std::move(o.m_lock)), m_top(std::move(o.m_top)), m_buildfile(std::move(o.m_buildfile)) {
  o.m_top.clear();
}

StdinContext::~StdinContext() {
  if (!m_top.empty()) (void)remove_tree(m_top);
}

Result<StdinContext> StdinContext::read(const cas::Store& store) {
  auto lock = TRY(store.writer_lock());
  std::string tmpl = store.tmp_dir() + "/stdin-context-XXXXXX";
  if (!::mkdtemp(tmpl.data())) return sys_error("create a directory for the context from stdin");
  StdinContext sc(std::move(lock), tmpl);  // from here on, the directory goes with sc
  TRY(make_dirs(sc.dir(), 0755));
  std::string input = sc.m_top + "/stdin";
  UniqueFd out = TRY(open_fd(input, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  unsigned char head[512];
  size_t head_n = 0;
  std::string buf(1u << 20, '\0');
  for (;;) {
    ssize_t n = ::read(0, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("kiln build -: read the context from stdin");
    if (n == 0) break;
    if (head_n < sizeof head) {
      size_t take = std::min(sizeof head - head_n, static_cast<size_t>(n));
      std::memcpy(head + head_n, buf.data(), take);
      head_n += take;
    }
    TRY_CTX(write_all(out.get(), buf.data(), static_cast<size_t>(n)), "kiln build -: keep the context from stdin");
  }
  switch (kind_of(head, head_n)) {
    case Kind::unsupported_compression:
      return make_error(ErrorCode::unsupported,
                        "kiln build -: the tarball on stdin is bzip2 or xz compressed; give it plain, gzip or zstd");
    case Kind::tar:
    case Kind::compressed_tar: {
      UniqueFd in = TRY(open_fd(input, O_RDONLY | O_CLOEXEC));
      oci::ExtractOptions opts;
      opts.label = "kiln build -: the context tarball on stdin";
      TRY(oci::extract_tar(in.get(), sc.dir(), opts));
      break;
    }
    case Kind::text:
      sc.m_buildfile = TRY_CTX(read_file(input, 4u << 20), "kiln build -: the Buildfile on stdin");
      break;
  }
  ::unlink(input.c_str());
  return sc;
}

}  // namespace kiln::cli
