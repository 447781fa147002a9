// Test tar builder over libarchive.
#include "tests/unit/support/tar_builder.h"

#include <archive.h>
#include <archive_entry.h>

namespace kiln::test {

namespace {
la_ssize_t append(struct archive*, void* client, const void* buf, size_t len) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buf), len);
  return static_cast<la_ssize_t>(len);
}
}  // namespace

std::string build_tar(const std::vector<TarEntry>& entries) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(a, &out, nullptr, append, nullptr);
  for (const auto& te : entries) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, te.path.c_str());
    archive_entry_set_perm(e, static_cast<mode_t>(te.mode));
    archive_entry_set_uid(e, te.uid);
    archive_entry_set_gid(e, te.gid);
    archive_entry_set_mtime(e, te.mtime, 0);
    for (const auto& [k, v] : te.xattrs) archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
    switch (te.type) {
      case TarEntry::file:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, static_cast<la_int64_t>(te.content.size()));
        break;
      case TarEntry::dir:
        archive_entry_set_filetype(e, AE_IFDIR);
        break;
      case TarEntry::symlink:
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, te.content.c_str());
        break;
      case TarEntry::hardlink:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_hardlink(e, te.content.c_str());
        archive_entry_set_size(e, 0);
        break;
      case TarEntry::chardev:
        archive_entry_set_filetype(e, AE_IFCHR);
        archive_entry_set_rdevmajor(e, 1);
        archive_entry_set_rdevminor(e, 3);
        break;
      case TarEntry::fifo:
        archive_entry_set_filetype(e, AE_IFIFO);
        break;
    }
    archive_write_header(a, e);
    if (te.type == TarEntry::file && !te.content.empty()) archive_write_data(a, te.content.data(), te.content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

}  // namespace kiln::test
