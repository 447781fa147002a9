// Media types.
#include "oci/media_types.h"

namespace kiln::oci::media {

bool is_manifest(std::string_view mt) { return mt == oci_manifest || mt == docker_manifest; }
bool is_index(std::string_view mt) { return mt == oci_index || mt == docker_list; }
bool is_config(std::string_view mt) { return mt == oci_config || mt == docker_config; }

bool is_layer(std::string_view mt) {
  return mt == oci_layer_tar || mt == oci_layer_gzip || mt == oci_layer_zstd || mt == oci_layer_nd_gzip ||
         mt == docker_layer_gzip || mt == docker_layer_foreign ||
         mt == "application/vnd.oci.image.layer.nondistributable.v1.tar" ||
         mt == "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
}

Compression layer_compression(std::string_view mt) {
  if (mt.ends_with("+zstd") || mt.ends_with(".zstd")) return Compression::zstd;
  if (mt.ends_with("+gzip") || mt.ends_with(".gzip")) return Compression::gzip;
  return Compression::none;
}

const char* oci_layer_type(Compression c) {
  switch (c) {
    case Compression::gzip:
      return oci_layer_gzip;
    case Compression::zstd:
      return oci_layer_zstd;
    case Compression::none:
      break;
  }
  return oci_layer_tar;
}

bool parse_compression(std::string_view name, Compression& out) {
  if (name == "gzip")
    out = Compression::gzip;
  else if (name == "zstd")
    out = Compression::zstd;
  else if (name == "none" || name == "uncompressed")
    out = Compression::none;
  else
    return false;
  return true;
}

}  // namespace kiln::oci::media
