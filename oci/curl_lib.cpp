// dlopen of libcurl.
#include "oci/curl_lib.h"

#include <dlfcn.h>

#include <string>
#include <type_traits>

namespace kiln::oci {

namespace {

Result<CurlLib> load() {
  const char* name = "libcurl.so.4";
  void* h = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* why = ::dlerror();
    return make_error(ErrorCode::unsupported,
                      std::string("load ") + name + " for HTTP: " + (why ? why : "not found") + " (install libcurl4)");
  }
  CurlLib lib{};
  std::string missing;
  auto sym = [&](auto& fn, const char* sym_name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(h, sym_name));
    if (!fn) missing = sym_name;
  };
  sym(lib.easy_init, "curl_easy_init");
  sym(lib.easy_cleanup, "curl_easy_cleanup");
  sym(lib.easy_setopt, "curl_easy_setopt");
  sym(lib.easy_perform, "curl_easy_perform");
  sym(lib.easy_strerror, "curl_easy_strerror");
  sym(lib.slist_append, "curl_slist_append");
  sym(lib.slist_free_all, "curl_slist_free_all");
  CURLcode (*global_init)(long) = nullptr;
  sym(global_init, "curl_global_init");
  if (!missing.empty())
    return make_error(ErrorCode::unsupported, std::string(name) + " lacks " + missing + " (libcurl too old?)");
  if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return make_error(ErrorCode::generic, "curl_global_init failed");
  return lib;
}

}  // namespace

Result<const CurlLib*> curl_lib() {
  static const Result<CurlLib> lib = load();  // loaded once; kept for the life of the process
  if (!lib) return lib.error();
  return &*lib;
}

}  // namespace kiln::oci
