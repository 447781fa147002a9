// prime_text BINARY: refill the page cache of BINARY's executable segment with 2 MiB folios, so that every
// later exec maps it with a few huge-page entries instead of hundreds of small ones (fewer faults at the
// start, far less to unmap at the exit; measured in bench/PERFORMANCE.md). Run after linking, when no process
// has the new file mapped: the cached pages are dropped, then read back through a MADV_HUGEPAGE mapping, whose
// readahead allocates PMD-sized folios. kiln is linked with 2 MiB segment alignment for the kernel to map them.
// Best effort: on a kernel or filesystem without large folios it changes nothing, and it always exits 0.
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define HUGE (2UL << 20)

static void prime(int fd, off_t offset, size_t size) {
  off_t start = offset & ~(off_t)(HUGE - 1);
  size_t len = (size_t)(offset - start) + size;
  posix_fadvise(fd, start, (off_t)len, POSIX_FADV_DONTNEED);
  char* p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, start);
  if (p == MAP_FAILED) return;
  madvise(p, len, MADV_HUGEPAGE);
  volatile char sink = 0;
  for (size_t i = 0; i < len; i += 4096) sink ^= p[i];
  (void)sink;
  munmap(p, len);
}

int main(int argc, char** argv) {
  if (argc != 2) return 0;
  int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  Elf64_Ehdr eh;
  if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_phentsize != sizeof(Elf64_Phdr))
    return 0;
  fdatasync(fd);  // the linker's dirty pages cannot be dropped
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (Elf64_Off)i * sizeof ph)) != (ssize_t)sizeof ph) break;
    if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) && ph.p_align >= HUGE && ph.p_filesz >= HUGE)
      prime(fd, (off_t)ph.p_offset, ph.p_filesz);
  }
  close(fd);
  return 0;
}
