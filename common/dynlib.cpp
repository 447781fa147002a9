// dlopen with the reason on failure.
#include "common/dynlib.h"

namespace kiln {

namespace {
const char* g_forbidden = nullptr;  // set once at the start of main, before any thread
}  // namespace

void DynLib::forbid(const char* why) { g_forbidden = why; }

Result<DynLib> DynLib::open(const char* name, const std::string& purpose) {
  if (g_forbidden)
    return make_error(ErrorCode::unsupported,
                      std::string("load ") + name + (purpose.empty() ? "" : " " + purpose) + ": " + g_forbidden);
  DynLib lib;
  lib.m_handle = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!lib.m_handle) {
    const char* why = ::dlerror();
    return make_error(ErrorCode::unsupported, std::string("load ") + name + (purpose.empty() ? "" : " " + purpose) +
                                                  ": " + (why ? why : "not found"));
  }
  return lib;
}

}  // namespace kiln
