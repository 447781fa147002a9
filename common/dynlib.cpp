// dlopen with the reason on failure.
#include "common/dynlib.h"

namespace kiln {

Result<DynLib> DynLib::open(const char* name, const std::string& purpose) {
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
