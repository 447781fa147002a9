// `kiln build -`: the build context read from stdin, as docker reads it: a tarball of the context (plain, gzip or
// zstd), or a Buildfile alone with an empty context.
#pragma once

#include <optional>
#include <string>

#include "cas/lock.h"
#include "cas/store.h"

namespace kiln::cli {

class StdinContext {
 public:
  /// Read stdin to its end and unpack it into a directory of the store's tmp (gc leaves it while this lives).
  static Result<StdinContext> read(const cas::Store& store);
  StdinContext(StdinContext&& o) noexcept;
  StdinContext& operator=(StdinContext&&) = delete;
  StdinContext(const StdinContext&) = delete;
  ~StdinContext();  ///< removes the directory

  /// The context directory (empty when stdin held a Buildfile alone).
  std::string dir() const { return m_top + "/context"; }
  /// The Buildfile, when stdin was one rather than a tarball.
  const std::optional<std::string>& buildfile_text() const { return m_buildfile; }

 private:
  StdinContext(cas::FileLock lock, std::string top) : m_lock(std::move(lock)), m_top(std::move(top)) {}
  cas::FileLock m_lock;  ///< the store's writer lock: gc does not sweep tmp under it
  std::string m_top;
  std::optional<std::string> m_buildfile;
};

}  // namespace kiln::cli
