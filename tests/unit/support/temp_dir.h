// A temporary directory for a test, removed when the test ends.
#pragma once

#include <string>

namespace kiln::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return m_path; }
  /// path()/rel
  std::string operator/(const std::string& rel) const { return m_path + "/" + rel; }

 private:
  std::string m_path;
};

/// Write a file (creating parents), for building fixtures.
void write_text(const std::string& path, const std::string& text, int mode = 0644);

}  // namespace kiln::test
