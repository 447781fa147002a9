// Test temp directories.
#include "tests/unit/support/temp_dir.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>

#include "common/fd.h"

namespace kiln::test {

TempDir::TempDir() {
  const char* base = ::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/kiln-test-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  m_path = tmpl;
}

TempDir::~TempDir() { (void)remove_tree(m_path); }

void write_text(const std::string& path, const std::string& text, int mode) {
  auto slash = path.rfind('/');
  if (slash != std::string::npos) (void)make_dirs(path.substr(0, slash));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0) throw std::runtime_error("open " + path);
  (void)write_all(fd, text);
  ::fchmod(fd, static_cast<mode_t>(mode));
  ::close(fd);
}

}  // namespace kiln::test
