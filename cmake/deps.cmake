# Third-party libraries as targets kiln::archive, kiln::crypto, kiln::zstd, kiln::zlib, kiln::seccomp.
#
# KILN_STATIC_DEPS (default ON) links them (but zstd, see below) from Debian's static archives: every
# `kiln run` starts a fresh process, and loading libarchive's shared dependency chain (libxml2 -> ICU, nettle, lzma, lz4, bz2, acl)
# plus libcrypto and libstdc++ cost ~5 ms of a ~10 ms container start (bench/run). libcurl is not linked
# at all: oci/curl_lib.cpp loads it on first HTTP use.
option(KILN_STATIC_DEPS "Link libarchive, libcrypto, zlib, libseccomp and libstdc++ statically" ON)

find_package(PkgConfig REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(LIBARCHIVE REQUIRED IMPORTED_TARGET libarchive)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(SECCOMP REQUIRED IMPORTED_TARGET libseccomp)

function(kiln_static_lib out name)
  find_library(KILN_STATIC_${name} NAMES lib${name}.a)
  if(NOT KILN_STATIC_${name})
    message(FATAL_ERROR "lib${name}.a not found: install its -dev package (scripts/setup) or configure with -DKILN_STATIC_DEPS=OFF")
  endif()
  set(${out} ${KILN_STATIC_${name}} PARENT_SCOPE)
endfunction()

foreach(t archive crypto zstd zlib seccomp)
  add_library(kiln::${t} INTERFACE IMPORTED)
endforeach()

if(KILN_STATIC_DEPS)
  foreach(n archive nettle bz2 lzma lz4 z seccomp crypto zstd)
    kiln_static_lib(a_${n} ${n})
  endforeach()
  # Debian's libzstd.a is built without ZSTD_MULTITHREAD: it would ignore nbWorkers, making zstd layers
  # slower and different from the shared library's. It serves decompression (kiln's and libarchive's); the
  # compressor dlopens libzstd.so.1 when it is first needed (oci/compress.cpp).
  target_link_libraries(kiln::zstd INTERFACE ${a_zstd} ${CMAKE_DL_LIBS})
  target_link_libraries(kiln::zlib INTERFACE ${a_z})
  target_link_libraries(kiln::archive INTERFACE ${a_archive} ${a_nettle} ${a_bz2} ${a_lzma} ${a_lz4}
                                                kiln::zstd kiln::zlib)
  target_link_libraries(kiln::seccomp INTERFACE ${a_seccomp})
  target_link_libraries(kiln::crypto INTERFACE ${a_crypto} ${CMAKE_DL_LIBS} Threads::Threads)
  target_include_directories(kiln::archive INTERFACE ${LIBARCHIVE_INCLUDE_DIRS})
  target_include_directories(kiln::crypto INTERFACE ${OPENSSL_INCLUDE_DIR})
  # libarchive's pax writer drags in every format writer (xar needs libxml2); dropping unused sections
  # keeps them out. libstdc++ and libgcc are linked statically into the dynamically linked binaries (flags per
  # target: with them g++ asks for libc's shared library, which a -static-pie link must not get).
  add_link_options(-Wl,--gc-sections -Wl,--as-needed)
  set(KILN_STATIC_RUNTIME -static-libstdc++ -static-libgcc)
else()
  target_link_libraries(kiln::archive INTERFACE PkgConfig::LIBARCHIVE)
  target_link_libraries(kiln::crypto INTERFACE OpenSSL::Crypto)
  target_link_libraries(kiln::zstd INTERFACE PkgConfig::ZSTD)
  target_link_libraries(kiln::zlib INTERFACE ZLIB::ZLIB)
  target_link_libraries(kiln::seccomp INTERFACE PkgConfig::SECCOMP)
endif()

# Packed relative relocations (glibc >= 2.36): ~20k relocations of a PIE binary shrink to a bitmap the loader
# applies faster, touching fewer pages at every start. KILN_RELR is for the binaries users run (lld 14, which
# links the static kiln, spells it --pack-dyn-relocs=relr).
include(CheckLinkerFlag)
check_linker_flag(CXX "-Wl,-z,pack-relative-relocs" KILN_HAVE_RELR)
set(KILN_RELR "")
if(KILN_HAVE_RELR)
  set(KILN_RELR -Wl,-z,pack-relative-relocs)
endif()
