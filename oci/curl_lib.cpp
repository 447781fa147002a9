// dlopen of libcurl.
#include "oci/curl_lib.h"

#include <string>

#include "common/dynlib.h"

namespace kiln::oci {

namespace {

Result<CurlLib> load() {
  const char* name = "libcurl.so.4";
  auto h = DynLib::open(name, "for HTTP");
  if (!h) return make_error(ErrorCode::unsupported, h.error().what() + " (install libcurl4)");
  CurlLib lib{};
  h->bind(lib.easy_init, "curl_easy_init");
  h->bind(lib.easy_cleanup, "curl_easy_cleanup");
  h->bind(lib.easy_setopt, "curl_easy_setopt");
  h->bind(lib.easy_perform, "curl_easy_perform");
  h->bind(lib.easy_getinfo, "curl_easy_getinfo");
  h->bind(lib.easy_strerror, "curl_easy_strerror");
  h->bind(lib.slist_append, "curl_slist_append");
  h->bind(lib.slist_free_all, "curl_slist_free_all");
  CURLcode (*global_init)(long) = nullptr;
  h->bind(global_init, "curl_global_init");
  if (!h->missing().empty())
    return make_error(ErrorCode::unsupported, std::string(name) + " lacks " + h->missing() + " (libcurl too old?)");
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
