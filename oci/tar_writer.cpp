// Deterministic tar writer over libarchive.
#include "oci/tar_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "common/fd.h"
#include "common/identity.h"
#include "oci/tar_check.h"

namespace kiln::oci {

namespace {

/// archive_write_header, true once the entry is written. A warning is a written entry too: a name that is not
/// ASCII has no form in kiln's C locale, and libarchive then writes its bytes as they are (pax hdrcharset=BINARY),
/// which is what the layer must hold.
bool header_written(struct archive* a, struct archive_entry* e) {
  int r = archive_write_header(a, e);
  return r == ARCHIVE_OK || r == ARCHIVE_WARN;
}

struct WriteCtx {
  const Sink* out;
  Error error;
  bool failed = false;
};

la_ssize_t write_cb(struct archive*, void* client, const void* buf, size_t len) {
  auto* ctx = static_cast<WriteCtx*>(client);
  if (auto st = (*ctx->out)(buf, len); !st) {
    ctx->error = std::move(st).error();
    ctx->failed = true;
    return -1;
  }
  return static_cast<la_ssize_t>(len);
}

struct Walker {
  Walker(struct archive* arch, const TarOptions& o, WriteCtx& c) : a(arch), opts(o), ctx(c) {}
  struct archive* a;
  const TarOptions& opts;
  WriteCtx& ctx;
  EntryOverrides ov{};
  std::function<bool(const std::string&)> include{};
  std::string base;  ///< archive path of the top entry being added, to compute paths for include()
  std::map<std::pair<dev_t, ino_t>, std::string> links;
  std::vector<char> buf = std::vector<char>(1 << 17);

  Error archive_error(const std::string& path) {
    if (ctx.failed) return ctx.error;
    return make_error(ErrorCode::generic, "writing tar entry " + path + ": " + archive_error_text(a));
  }

  std::vector<std::string> sorted_children(int dirfd) {
    std::vector<std::string> names;
    int fd = ::dup(dirfd);
    DIR* d = ::fdopendir(fd);
    if (!d) {
      ::close(fd);
      return names;
    }
    ::rewinddir(d);
    while (struct dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(std::move(n));
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }

  // Of the xattrs only security.capability goes into a layer, as in the layers BuildKit and docker write
  // (containerd's and docker's tar writers record that one alone): user.*, trusted.* and security labels
  // of the build host are not content.
  void add_xattrs(struct archive_entry* e, int fd) {
    if (ov.drop_xattrs) return;
    static const char kCapability[] = "security.capability";
    char val[256];
    ssize_t n = ::fgetxattr(fd, kCapability, val, sizeof val);
    if (n > 0) archive_entry_xattr_add_entry(e, kCapability, val, static_cast<size_t>(n));
  }

  bool is_whiteout(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0); }

  bool is_opaque(int fd) {
    char v[4];
    ssize_t n = ::fgetxattr(fd, overlay_opaque_xattr().c_str(), v, sizeof v);
    return n == 1 && v[0] == 'y';
  }

  Status header(const std::string& path, const struct stat& st, struct archive_entry* e) {
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_uid(e, ov.uid.value_or(st.st_uid));
    archive_entry_set_gid(e, ov.gid.value_or(st.st_gid));
    archive_entry_set_perm(e, ov.mode_of(st.st_mode));
    int64_t mtime = st.st_mtim.tv_sec;
    long nsec = st.st_mtim.tv_nsec;
    if (opts.clamp_mtime && mtime >= *opts.clamp_mtime) {
      mtime = *opts.clamp_mtime;
      nsec = 0;
    }
    archive_entry_set_mtime(e, mtime, opts.clamp_mtime ? 0 : nsec);
    return {};
  }

  Status emit_whiteout(const std::string& path, const struct stat& st) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
    auto slash = path.rfind('/');
    std::string wh =
        slash == std::string::npos ? ".wh." + path : path.substr(0, slash + 1) + ".wh." + path.substr(slash + 1);
    struct stat z = st;
    z.st_mode = S_IFREG | 0;
    z.st_uid = z.st_gid = 0;
    TRY(header(wh, z, e.get()));
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_size(e.get(), 0);
    if (!header_written(a, e.get())) return archive_error(wh);
    return {};
  }

  Status entry(int parent, const std::string& name, const std::string& path) {
    struct stat st;
    if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return sys_error("stat " + path);
    if (opts.overlay_upper && is_whiteout(st)) return emit_whiteout(path, st);
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
    TRY(header(S_ISDIR(st.st_mode) ? path + "/" : path, st, e.get()));
    UniqueFd fd;
    if (S_ISDIR(st.st_mode)) {
      fd = TRY(openat_fd(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
      archive_entry_set_filetype(e.get(), AE_IFDIR);
      add_xattrs(e.get(), fd.get());
    } else if (S_ISREG(st.st_mode)) {
      auto key = std::make_pair(st.st_dev, st.st_ino);
      if (st.st_nlink > 1) {
        auto it = links.find(key);
        if (it != links.end()) {
          archive_entry_set_filetype(e.get(), AE_IFREG);
          archive_entry_set_hardlink(e.get(), it->second.c_str());
          archive_entry_set_size(e.get(), 0);
          if (!header_written(a, e.get())) return archive_error(path);
          return {};
        }
        links.emplace(key, path);
      }
      fd = TRY(openat_fd(parent, name, O_RDONLY | O_NOFOLLOW));
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_size(e.get(), st.st_size);
      add_xattrs(e.get(), fd.get());
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlinkat(parent, name.c_str(), target.data(), target.size());
      if (n < 0) return sys_error("readlink " + path);
      target.resize(static_cast<size_t>(n));
      archive_entry_set_filetype(e.get(), AE_IFLNK);
      archive_entry_set_symlink(e.get(), target.c_str());
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      archive_entry_set_filetype(e.get(), S_ISCHR(st.st_mode) ? AE_IFCHR : AE_IFBLK);
      archive_entry_set_rdevmajor(e.get(), major(st.st_rdev));
      archive_entry_set_rdevminor(e.get(), minor(st.st_rdev));
    } else if (S_ISFIFO(st.st_mode)) {
      archive_entry_set_filetype(e.get(), AE_IFIFO);
    } else {
      return {};  // sockets are not carried in layers, as docker does
    }
    if (S_ISDIR(st.st_mode) && opts.overlay_upper && is_opaque(fd.get())) {
      if (!header_written(a, e.get())) return archive_error(path);
      struct stat z = st;
      z.st_uid = z.st_gid = 0;
      std::unique_ptr<archive_entry, void (*)(archive_entry*)> o(archive_entry_new(), archive_entry_free);
      TRY(header(path + "/.wh..wh..opq", z, o.get()));
      archive_entry_set_filetype(o.get(), AE_IFREG);
      archive_entry_set_perm(o.get(), 0);
      archive_entry_set_size(o.get(), 0);
      if (!header_written(a, o.get())) return archive_error(path);
      return children(fd.get(), path + "/");
    }
    if (!header_written(a, e.get())) return archive_error(path);
    if (S_ISREG(st.st_mode)) {
      int64_t left = st.st_size;
      while (left > 0) {
        ssize_t n = ::read(fd.get(), buf.data(), std::min<int64_t>(left, static_cast<int64_t>(buf.size())));
        if (n < 0) {
          if (errno == EINTR) continue;
          return sys_error("read " + path);
        }
        if (n == 0) return make_error(ErrorCode::io, path + " shrank while being archived");
        if (archive_write_data(a, buf.data(), static_cast<size_t>(n)) != n) return archive_error(path);
        left -= n;
      }
    }
    if (S_ISDIR(st.st_mode)) return children(fd.get(), path + "/");
    return {};
  }

  Status children(int dirfd, const std::string& prefix) {
    for (const auto& n : sorted_children(dirfd)) {
      std::string path = prefix + n;
      if (include && !include(path.substr(base.size()))) continue;
      TRY(entry(dirfd, n, path));
    }
    return {};
  }
};

}  // namespace

struct TarStream::Impl {
  std::unique_ptr<struct archive, int (*)(struct archive*)> a{archive_write_new(), archive_write_free};
  TarOptions opts;
  Sink out;
  WriteCtx ctx;
  bool open = false;
  bool closed = false;
  Error open_error;
  std::map<std::pair<dev_t, ino_t>, std::string> links;
};

TarStream::TarStream(const TarOptions& opts, Sink out) : m(std::make_unique<Impl>()) {
  m->opts = opts;
  m->out = std::move(out);
  m->ctx = WriteCtx{&m->out, {}, false};
  archive_write_set_format_pax_restricted(m->a.get());
  archive_write_set_bytes_per_block(m->a.get(), 10240);
  archive_write_set_bytes_in_last_block(m->a.get(), 1);
  m->open = archive_write_open(m->a.get(), &m->ctx, nullptr, write_cb, nullptr) == ARCHIVE_OK;
  if (!m->open) m->open_error = make_error(ErrorCode::generic, std::string("tar: ") + archive_error_text(m->a.get()));
}

TarStream::~TarStream() = default;

void TarStream::set_whiteouts(bool on) { m->opts.overlay_upper = on; }

Status TarStream::add(const std::string& host_path, const std::string& archive_path, const EntryOverrides& ov,
                      const std::function<bool(const std::string&)>& include) {
  if (!m->open) return m->open_error;
  auto slash = host_path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : host_path.substr(0, slash);
  std::string name = slash == std::string::npos ? host_path : host_path.substr(slash + 1);
  UniqueFd parent = TRY(open_fd(dir, O_RDONLY | O_DIRECTORY));
  Walker w(m->a.get(), m->opts, m->ctx);
  w.ov = ov;
  w.include = include;
  w.base = archive_path + "/";
  w.links.swap(m->links);
  auto st = w.entry(parent.get(), name, archive_path);
  w.links.swap(m->links);
  return st;
}

Status TarStream::add_dir(const std::string& archive_path, const DirMeta& meta) {
  if (!m->open) return m->open_error;
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
  std::string p = archive_path.empty() || archive_path.back() == '/' ? archive_path : archive_path + "/";
  archive_entry_set_pathname(e.get(), p.c_str());
  archive_entry_set_filetype(e.get(), AE_IFDIR);
  archive_entry_set_perm(e.get(), meta.mode & 07777);
  archive_entry_set_uid(e.get(), meta.uid);
  archive_entry_set_gid(e.get(), meta.gid);
  int64_t mtime = meta.mtime;
  if (m->opts.clamp_mtime && mtime > *m->opts.clamp_mtime) mtime = *m->opts.clamp_mtime;
  archive_entry_set_mtime(e.get(), mtime, 0);
  if (!header_written(m->a.get(), e.get())) {
    if (m->ctx.failed) return m->ctx.error;
    return make_error(ErrorCode::generic, "writing tar entry " + p + ": " + archive_error_text(m->a.get()));
  }
  return {};
}

Status TarStream::close() {
  if (!m->open) return m->open_error;
  if (m->closed) return {};
  m->closed = true;
  if (archive_write_close(m->a.get()) != ARCHIVE_OK) {
    if (m->ctx.failed) return m->ctx.error;
    return make_error(ErrorCode::generic, std::string("closing tar: ") + archive_error_text(m->a.get()));
  }
  return {};
}

Status write_tar(const std::string& dir, const TarOptions& opts, const Sink& out) {
  UniqueFd root = TRY(open_fd(dir, O_RDONLY | O_DIRECTORY));
  TarStream ts(opts, out);
  if (!ts.m->open) return ts.m->open_error;
  Walker w(ts.m->a.get(), opts, ts.m->ctx);
  TRY_CTX(w.children(root.get(), opts.prefix), "archiving " + dir);
  return ts.close();
}

}  // namespace kiln::oci
