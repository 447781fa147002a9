// Safe layer extraction over libarchive's reader; all file system access goes through openat2 beneath the root.
#include "oci/extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <memory>
#include <unordered_set>
#include <vector>

#include "common/fd.h"
#include "common/identity.h"
#include "oci/layer_reader.h"
#include "oci/tar_check.h"

namespace kiln::oci {

namespace {

constexpr uint64_t kBeneath = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;

/// Split an entry path into components. Leading "/" and "./" are dropped, as tar does; ".." takes back the
/// component before it, lexically, as docker's and containerd's extractors clean names ("a/../b" is "b"), and
/// one that would climb out of the root is refused.
Result<std::vector<std::string>> split_path(const std::string& path) {
  std::vector<std::string> comps;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string c = path.substr(i, j - i);
    if (c == "..") {
      if (comps.empty()) return make_error(ErrorCode::unsafe, "path contains \"..\" that climbs out of the root");
      comps.pop_back();
      i = j + 1;
      continue;
    }
    if (!c.empty() && c != ".") comps.push_back(std::move(c));
    i = j + 1;
  }
  return comps;
}

std::string join(const std::vector<std::string>& comps, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (i) s += '/';
    s += comps[i];
  }
  return s.empty() ? "." : s;
}

struct DirTime {
  std::string path;
  struct timespec times[2];
};

class Extractor {
 public:
  Extractor(int root, const ExtractOptions& opts) : m_root(root), m_opts(opts) {}

  Status entry(struct archive* a, struct archive_entry* e) {
    const char* raw = archive_entry_pathname(e);
    if (!raw) raw = archive_entry_pathname_utf8(e);
    if (!raw) return make_error(ErrorCode::corrupt, "an entry has no readable path");
    m_name = raw;
    auto comps_r = split_path(m_name);
    if (!comps_r) return unsafe("path contains \"..\" that climbs out of the root");
    std::vector<std::string> comps = std::move(comps_r).value();
    if (comps.empty()) return root_metadata(e);
    std::string base = comps.back();
    comps.pop_back();
    if (base.rfind(".wh.", 0) == 0) return whiteout(comps, base);
    UniqueFd parent = TRY(open_parent(comps, true));
    std::string rel = join(comps, comps.size());
    std::string full = rel == "." ? base : rel + "/" + base;
    // This layer owns the entry and every directory above it (an opaque marker must keep them).
    for (size_t i = 1; i <= comps.size(); ++i) m_created.insert(join(comps, i));
    m_created.insert(full);
    mode_t type = archive_entry_filetype(e);
    const char* hardlink = archive_entry_hardlink(e);
    TRY(clear_target(parent.get(), base, type == AE_IFDIR && !hardlink));
    if (hardlink) return make_hardlink(parent.get(), base, hardlink);
    switch (type) {
      case AE_IFDIR:
        return make_dir(parent.get(), base, full, e);
      case AE_IFREG:
        return make_file(a, parent.get(), base, e);
      case AE_IFLNK:
        return make_symlink(parent.get(), base, e);
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO:
        return make_node(parent.get(), base, e, type);
      default:
        return make_error(ErrorCode::unsupported, "entry " + m_name + ": unsupported file type");
    }
  }

  /// Directory mtimes last, deepest first, so creating children does not change them again.
  Status finish() {
    for (auto it = m_dir_times.rbegin(); it != m_dir_times.rend(); ++it) {
      int fd =
          openat2_raw(m_root, it->path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, kBeneath | RESOLVE_NO_SYMLINKS);
      if (fd < 0) continue;  // removed by a later whiteout
      ::futimens(fd, it->times);
      ::close(fd);
    }
    return {};
  }

 private:
  Error unsafe(const std::string& why) {
    return make_error(ErrorCode::unsafe, "refusing entry \"" + m_name + "\": " + why);
  }

  Error entry_error(const std::string& what, int err = errno) {
    Error e = sys_error(what, err);
    return e.context("entry \"" + m_name + "\"");
  }

  /// Open (creating missing directories) the parent of an entry, beneath the root. A component that is a
  /// symlink is followed only while it stays beneath the root.
  Result<UniqueFd> open_parent(const std::vector<std::string>& comps, bool create) {
    std::string rel = join(comps, comps.size());
    int fd = openat2_raw(m_root, rel.c_str(), O_PATH | O_DIRECTORY, kBeneath);
    if (fd >= 0) return UniqueFd(fd);
    if (errno == EXDEV || errno == ELOOP)
      return unsafe("its parent \"" + rel + "\" is a symlink leading outside the root");
    if (errno == ENOTDIR) return unsafe("its parent \"" + rel + "\" is not a directory");
    if (errno != ENOENT || !create) return entry_error("open parent " + rel);
    UniqueFd cur(::dup(m_root));
    for (size_t i = 0; i < comps.size(); ++i) {
      std::string sub = join(comps, i + 1);
      int next = openat2_raw(m_root, sub.c_str(), O_PATH | O_DIRECTORY, kBeneath);
      if (next < 0 && errno == ENOENT) {
        if (::mkdirat(cur.get(), comps[i].c_str(), 0755) < 0 && errno != EEXIST) return entry_error("mkdir " + sub);
        next = openat2_raw(m_root, sub.c_str(), O_PATH | O_DIRECTORY, kBeneath);
      }
      if (next < 0) {
        if (errno == EXDEV || errno == ELOOP)
          return unsafe("its parent \"" + sub + "\" is a symlink leading outside the root");
        if (errno == ENOTDIR) return unsafe("its parent \"" + sub + "\" is not a directory");
        return entry_error("open parent " + sub);
      }
      cur.reset(next);
    }
    return cur;
  }

  /// Remove what is in the way; an existing directory stays when a directory is being extracted over it.
  Status clear_target(int parent, const std::string& base, bool keep_dir) {
    struct stat st;
    if (::fstatat(parent, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return {};
    if (keep_dir && S_ISDIR(st.st_mode)) return {};
    return remove_tree_at(parent, base);
  }

  /// A chown to an owner the user namespace does not map (rootless, the user's own id alone) says so.
  Error chown_error(uid_t uid, gid_t gid) {
    if (errno != EINVAL || in_initial_user_namespace()) return entry_error("chown");
    return make_error(ErrorCode::unsupported,
                      "entry \"" + m_name + "\" is owned by " + std::to_string(uid) + ":" + std::to_string(gid) +
                          ", which this rootless kiln cannot map: give the user ranges in /etc/subuid and "
                          "/etc/subgid (README, Rootless)");
  }

  Status set_owner_mode(int fd, const std::string& base, int parent, struct archive_entry* e, bool is_link) {
    uid_t uid = static_cast<uid_t>(archive_entry_uid(e));
    gid_t gid = static_cast<gid_t>(archive_entry_gid(e));
    if (fd >= 0) {
      if (::fchown(fd, uid, gid) < 0) return chown_error(uid, gid);
      if (::fchmod(fd, archive_entry_perm(e)) < 0) return entry_error("chmod");
    } else {
      if (::fchownat(parent, base.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) < 0) return chown_error(uid, gid);
      if (!is_link && ::fchmodat(parent, base.c_str(), archive_entry_perm(e), 0) < 0) return entry_error("chmod");
    }
    return {};
  }

  Status set_xattrs(int fd, struct archive_entry* e) {
    const char* name;
    const void* value;
    size_t size;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      std::string n = name;
      if (is_overlay_xattr(n)) continue;  // never let an image steer overlayfs
      if (::fsetxattr(fd, name, value, size, 0) < 0 && errno != ENOTSUP) return entry_error("set xattr " + n);
    }
    return {};
  }

  static void entry_times(struct archive_entry* e, struct timespec t[2]) {
    t[0].tv_sec = t[1].tv_sec = archive_entry_mtime(e);
    t[0].tv_nsec = t[1].tv_nsec = archive_entry_mtime_nsec(e);
  }

  Status root_metadata(struct archive_entry* e) {
    if (archive_entry_filetype(e) != AE_IFDIR) return unsafe("the root of the layer must be a directory");
    TRY(set_owner_mode(m_root, "", -1, e, false));
    DirTime dt{".", {}};
    entry_times(e, dt.times);
    m_dir_times.push_back(dt);
    return {};
  }

  Status make_dir(int parent, const std::string& base, const std::string& full, struct archive_entry* e) {
    if (::mkdirat(parent, base.c_str(), 0700) < 0 && errno != EEXIST) return entry_error("mkdir");
    UniqueFd fd = TRY(openat_fd(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    TRY(set_owner_mode(fd.get(), base, parent, e, false));
    TRY(set_xattrs(fd.get(), e));
    DirTime dt{full, {}};
    entry_times(e, dt.times);
    m_dir_times.push_back(dt);
    return {};
  }

  Status make_file(struct archive* a, int parent, const std::string& base, struct archive_entry* e) {
    int raw = ::openat(parent, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (raw < 0) return entry_error("create");
    UniqueFd fd(raw);
    const void* buf;
    size_t size;
    la_int64_t offset;
    int64_t end = 0;
    for (;;) {
      int r = archive_read_data_block(a, &buf, &size, &offset);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN) return make_error(ErrorCode::corrupt, "entry \"" + m_name + "\": " + archive_error_text(a));
      if (offset != end) {
        if (::lseek(fd.get(), offset, SEEK_SET) < 0) return entry_error("seek");
      }
      TRY_CTX(write_all(fd.get(), buf, size), "entry \"" + m_name + "\"");
      end = offset + static_cast<int64_t>(size);
    }
    if (archive_entry_size_is_set(e) && end < archive_entry_size(e))
      if (::ftruncate(fd.get(), archive_entry_size(e)) < 0) return entry_error("truncate");
    TRY(set_owner_mode(fd.get(), base, parent, e, false));
    TRY(set_xattrs(fd.get(), e));
    struct timespec t[2];
    entry_times(e, t);
    ::futimens(fd.get(), t);
    return {};
  }

  Status make_symlink(int parent, const std::string& base, struct archive_entry* e) {
    const char* target = archive_entry_symlink(e);
    if (!target) target = archive_entry_symlink_utf8(e);
    if (!target) return make_error(ErrorCode::corrupt, "entry \"" + m_name + "\": symlink has no target");
    if (::symlinkat(target, parent, base.c_str()) < 0) return entry_error("symlink");
    TRY(set_owner_mode(-1, base, parent, e, true));
    struct timespec t[2];
    entry_times(e, t);
    ::utimensat(parent, base.c_str(), t, AT_SYMLINK_NOFOLLOW);
    return {};
  }

  Status make_node(int parent, const std::string& base, struct archive_entry* e, mode_t type) {
    mode_t mode = (type == AE_IFCHR ? S_IFCHR : type == AE_IFBLK ? S_IFBLK : S_IFIFO) | 0600;
    dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
    if (::mknodat(parent, base.c_str(), mode, type == AE_IFIFO ? 0 : dev) < 0) {
      // Rootless: a user namespace cannot make device nodes. An image's (mmdebstrap puts /dev/null and the
      // like in its tarball) is left out of the tree, as docker and podman leave it: a container's /dev is
      // its own anyway. The layer blob keeps it.
      if (errno == EPERM && type != AE_IFIFO && !in_initial_user_namespace()) return {};
      return entry_error("mknod");
    }
    TRY(set_owner_mode(-1, base, parent, e, false));
    struct timespec t[2];
    entry_times(e, t);
    ::utimensat(parent, base.c_str(), t, AT_SYMLINK_NOFOLLOW);
    return {};
  }

  Status make_hardlink(int parent, const std::string& base, const std::string& target) {
    auto comps_r = split_path(target);
    if (!comps_r) return unsafe("hardlink target \"" + target + "\" contains \"..\" that climbs out of the root");
    auto comps = std::move(comps_r).value();
    if (comps.empty()) return unsafe("hardlink target is the root");
    std::string tbase = comps.back();
    comps.pop_back();
    auto tparent = open_parent(comps, false);
    if (!tparent) {
      if (tparent.error().code == ErrorCode::unsafe)
        return unsafe("hardlink target \"" + target + "\" leads outside the root");
      return std::move(tparent).error();
    }
    struct stat st;
    if (::fstatat(tparent->get(), tbase.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
      return entry_error("hardlink target \"" + target + "\"");
    if (S_ISDIR(st.st_mode)) return unsafe("hardlink target \"" + target + "\" is a directory");
    if (::linkat(tparent->get(), tbase.c_str(), parent, base.c_str(), 0) < 0) return entry_error("link to " + target);
    return {};
  }

  Status whiteout(const std::vector<std::string>& comps, const std::string& base) {
    bool overlay = m_opts.whiteouts == Whiteouts::overlay;
    auto parent_r = open_parent(comps, overlay);  // flattening: a missing parent has nothing to delete
    if (!parent_r && !overlay && parent_r.error().code == ErrorCode::not_found) return {};
    UniqueFd parent = TRY(std::move(parent_r));
    std::string rel = join(comps, comps.size());
    if (base == ".wh..wh..opq") {
      if (m_opts.whiteouts == Whiteouts::overlay) {
        int fd = openat2_raw(m_root, rel.c_str(), O_RDONLY | O_DIRECTORY, kBeneath);
        if (fd < 0) return entry_error("open " + rel);
        UniqueFd owned(fd);
        if (::fsetxattr(fd, overlay_opaque_xattr().c_str(), "y", 1, 0) < 0) return entry_error("mark opaque");
        return {};
      }
      return empty_lower(parent.get(), rel == "." ? "" : rel + "/");
    }
    std::string victim = base.substr(4);
    if (victim.empty() || victim == "." || victim == "..") return unsafe("malformed whiteout");
    if (m_opts.whiteouts == Whiteouts::overlay) {
      TRY(remove_tree_at(parent.get(), victim));
      if (::mknodat(parent.get(), victim.c_str(), S_IFCHR | 0, makedev(0, 0)) < 0) return entry_error("whiteout");
      return {};
    }
    return remove_tree_at(parent.get(), victim);
  }

  /// Opaque directory when flattening: delete what lower layers put there, keep what this layer made.
  Status empty_lower(int dirfd, const std::string& prefix) {
    int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return entry_error("open");
    DIR* d = ::fdopendir(fd);
    if (!d) {
      ::close(fd);
      return entry_error("opendir");
    }
    std::vector<std::string> names;
    while (struct dirent* de = ::readdir(d)) {
      std::string n = de->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    for (const auto& n : names) {
      if (!m_created.count(prefix + n)) {
        TRY(remove_tree_at(dirfd, n));
        continue;
      }
      struct stat st;
      if (::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
        UniqueFd sub = TRY(openat_fd(dirfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
        TRY(empty_lower(sub.get(), prefix + n + "/"));
      }
    }
    return {};
  }

  int m_root;
  const ExtractOptions& m_opts;
  std::string m_name;
  std::unordered_set<std::string> m_created;
  std::vector<DirTime> m_dir_times;
};

/// libarchive's read callback; a failed read reaches it only as -1, so its words are kept here.
struct ReadState {
  LayerReader reader;
  std::optional<Error> error;
};

la_ssize_t layer_read(struct archive*, void* client, const void** data) {
  auto* r = static_cast<ReadState*>(client);
  auto n = r->reader.next(data);
  if (!n) {
    r->error = std::move(n).error();
    return -1;
  }
  return static_cast<la_ssize_t>(*n);
}

}  // namespace

Status extract_tar(int fd, const std::string& dest, const ExtractOptions& opts) {
  UniqueFd root = TRY(open_fd(dest, O_RDONLY | O_DIRECTORY));
  std::string label = opts.label.empty() ? "layer" : opts.label;
  ReadState state{LayerReader(fd), std::nullopt};
  LayerReader& reader = state.reader;
  TRY_CTX(reader.open(), label);
  std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_none(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_empty(a.get());
  // A failed read (a corrupt gzip stream, say) reaches libarchive only as -1: its own words are in the reader.
  auto archive_failed = [&](const std::string& what) -> Error {
    if (state.error) return std::move(state.error->context(label));
    return make_error(ErrorCode::corrupt, label + ": " + what + archive_error_text(a.get()));
  };
  if (archive_read_open(a.get(), &state, nullptr, layer_read, nullptr) != ARCHIVE_OK)
    return archive_failed("not a tar archive: ");
  Extractor x(root.get(), opts);
  for (;;) {
    struct archive_entry* e;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return archive_failed("");
    if (auto st = x.entry(a.get(), e); !st)
      return state.error ? archive_failed("") : std::move(st).error().context(label);
  }
  if (opts.verify || opts.diff_id) {
    TRY_CTX(reader.drain(), label);
    if (opts.verify)
      if (cas::Digest got = reader.blob_digest(); got != *opts.verify)
        return make_error(ErrorCode::corrupt, label + " is corrupt: its content hashes to " + got.str() +
                                                  ", run kiln fsck and pull or import the image again");
    // The tree is kept under the diffID the config names, where other images find it: a layer whose tar is not
    // what its config says must not fill that place.
    if (opts.diff_id)
      if (cas::Digest got = reader.tar_digest(); got != *opts.diff_id)
        return make_error(ErrorCode::corrupt, label + ": its uncompressed content hashes to " + got.str() +
                                                  " but the image config says " + opts.diff_id->str() +
                                                  ": the image is malformed, refused");
  }
  return x.finish();
}

}  // namespace kiln::oci
