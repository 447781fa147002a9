// OCI and Docker schema2 media types, and what kind of thing each names.
#pragma once

#include <string>
#include <string_view>

namespace kiln::oci::media {

inline constexpr const char* oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* oci_layer_tar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr const char* oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr const char* oci_layer_nd_gzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr const char* docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* docker_list = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr const char* docker_layer_gzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr const char* docker_layer_foreign = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

/// How a layer blob is compressed.
enum class Compression { none, gzip, zstd };

bool is_manifest(std::string_view mt);
bool is_index(std::string_view mt);
bool is_config(std::string_view mt);
/// True for every layer media type kiln can apply.
bool is_layer(std::string_view mt);
/// The compression a layer media type declares (none for plain tar).
Compression layer_compression(std::string_view mt);
/// The OCI layer media type for a compression.
const char* oci_layer_type(Compression c);
/// "gzip", "zstd", "none" → Compression; false if unknown.
bool parse_compression(std::string_view name, Compression& out);

}  // namespace kiln::oci::media
