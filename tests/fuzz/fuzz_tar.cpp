// Fuzz target: a tarball (plain or compressed) through `kiln import`'s one pass and the safe extractor, in a
// scratch store and directory that are emptied after every input. Nothing may land outside them.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cas/store.h"
#include "common/fd.h"
#include "oci/extract.h"
#include "oci/tar_import.h"

namespace {
std::string g_dir;
kiln::cas::Store* g_store = nullptr;

int memfd_with(const uint8_t* data, size_t size) {
  int fd = ::memfd_create("fuzz", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  if (size && ::write(fd, data, size) != static_cast<ssize_t>(size)) std::abort();
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/kiln-fuzz-tar-XXXXXX";
  if (!::mkdtemp(tmpl)) std::abort();
  g_dir = tmpl;
  static auto store = kiln::cas::Store::open(g_dir + "/store");
  if (!store) std::abort();
  g_store = &*store;
  std::atexit([] { (void)kiln::remove_tree(g_dir); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    kiln::UniqueFd fd(memfd_with(data, size));
    (void)kiln::oci::import_tarball(*g_store, fd.get(), kiln::oci::media::Compression::none, "fuzz.tar");
  }
  std::string out = g_dir + "/out";
  for (auto mode : {kiln::oci::Whiteouts::apply, kiln::oci::Whiteouts::overlay}) {
    if (::mkdir(out.c_str(), 0755) < 0) std::abort();
    kiln::UniqueFd fd(memfd_with(data, size));
    kiln::oci::ExtractOptions opts;
    opts.whiteouts = mode;
    if (mode == kiln::oci::Whiteouts::overlay) {  // as a layer tree is made: read to the end, both hashes checked
      opts.verify = kiln::cas::sha256_of(std::string_view(reinterpret_cast<const char*>(data), size));
      opts.diff_id = kiln::cas::sha256_of("a diffID the input is unlikely to have");
    }
    (void)kiln::oci::extract_tar(fd.get(), out, opts);
    if (!kiln::remove_tree(out)) std::abort();
  }
  // What the import stored goes, so every input starts from an empty store.
  for (const char* dir : {"/store/blobs/sha256", "/store/kiln/tmp"})
    if (auto names = kiln::list_dir(g_dir + dir))
      for (const auto& n : *names) (void)kiln::remove_tree(g_dir + dir + "/" + n);
  return 0;
}
