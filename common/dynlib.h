// Shared libraries opened on first use (dlopen), so kiln's start does not pay for what few commands need:
// libcurl (oci/curl_lib) and the multithreaded zstd compressor (oci/compress).
#pragma once

#include <dlfcn.h>

#include <string>

#include "common/error.h"

namespace kiln {

/// An open library; the handle is kept for the life of the process.
class DynLib {
 public:
  /// dlopen(name); the error reads "load NAME PURPOSE: <dlerror's words>".
  static Result<DynLib> open(const char* name, const std::string& purpose = "");
  /// From now on open() fails with why instead of loading (the static kiln, where a library that starts a
  /// thread would crash the process: its commands that load libraries run in its dynamic half).
  static void forbid(const char* why);
  /// Point fn at symbol; a symbol that is missing leaves fn null and is remembered in missing().
  template <typename Fn>
  void bind(Fn*& fn, const char* symbol) {
    fn = reinterpret_cast<Fn*>(::dlsym(m_handle, symbol));
    if (!fn && m_missing.empty()) m_missing = symbol;
  }
  /// The first symbol bind() did not find; "" when all were there.
  const std::string& missing() const { return m_missing; }

 private:
  void* m_handle = nullptr;
  std::string m_missing;
};

}  // namespace kiln
