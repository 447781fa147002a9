// libcurl, loaded on first use. Linking it pulls ~20 shared libraries (gnutls, krb5, ldap, ICU, ...) whose
// loading costs ~7 ms at every start of kiln; only commands that talk HTTP pay it now (see bench/run).
#pragma once

#include <curl/curl.h>

#include "common/error.h"

namespace kiln::oci {

/// The libcurl entry points kiln uses, resolved from libcurl.so.4.
struct CurlLib {
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL*);
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_perform)(CURL*);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  const char* (*easy_strerror)(CURLcode);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
};

/// Load libcurl once (thread-safe) and run curl_global_init; an error names the library and what to install.
Result<const CurlLib*> curl_lib();

}  // namespace kiln::oci
