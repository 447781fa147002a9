// Read NT_GNU_BUILD_ID from the main program's PT_NOTE segments, once.
#include "common/build_id.h"

#include <elf.h>
#include <link.h>

#include <cstring>

namespace kiln {

namespace {

int find_note(struct dl_phdr_info* info, size_t, void* out) {
  auto* hex = static_cast<std::string*>(out);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const char* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
    const char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      ElfW(Nhdr) nh;
      std::memcpy(&nh, p, sizeof nh);
      const char* name = p + sizeof nh;
      const char* desc = name + ((nh.n_namesz + 3) & ~3u);
      const char* next = desc + ((nh.n_descsz + 3) & ~3u);
      if (next > end) break;
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
        static const char digits[] = "0123456789abcdef";
        for (unsigned j = 0; j < nh.n_descsz; ++j) {
          auto b = static_cast<unsigned char>(desc[j]);
          hex->push_back(digits[b >> 4]);
          hex->push_back(digits[b & 15]);
        }
        return 1;
      }
      p = next;
    }
  }
  return 1;  // the first object is the main program: stop there, found or not
}

}  // namespace

const std::string& build_id_hex() {
  static const std::string id = [] {
    std::string hex;
    dl_iterate_phdr(find_note, &hex);
    return hex;
  }();
  return id;
}

}  // namespace kiln
