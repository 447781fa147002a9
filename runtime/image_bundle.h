// An image's config as a runtime spec (config.json): the image spec's conversion (conversion.md) on top of the
// runtime defaults `kiln-runtime spec` writes, with what `kiln run` gives a container by default where the
// conversion leaves it to the converter.
#pragma once

#include <string>

#include "common/error.h"
#include "oci/image.h"

namespace kiln::runtime {

/// The config.json for running image from a bundle whose root is "rootfs", given the rootfs's /etc/passwd and
/// /etc/group ("" where absent):
/// - process.args: Entrypoint then Cmd; process.cwd: WorkingDir ("/" without one); process.env: Env as it is,
///   with PATH (docker's default) and HOME (the user's) added only where Env has none;
/// - process.user: Config.User resolved as `kiln run` does (names through passwd and group; an unknown name is
///   the error); docker's default capabilities, effective and permitted for uid 0 only; no terminal;
/// - annotations: org.opencontainers.image.{os,architecture,variant,author,created,stopSignal,exposedPorts},
///   then Labels over them;
/// - root read-only, as every kiln container's.
/// An image with neither Entrypoint nor Cmd is an error: there is nothing to run.
Result<std::string> image_bundle_config(const oci::ImageConfig& image, const std::string& passwd,
                                        const std::string& group);
/// The same with passwd and group read from rootfs's etc/, resolved inside it (a link cannot lead out); a file
/// that is missing, a link loop or not a regular file counts as absent.
Result<std::string> image_bundle_config_for(const oci::ImageConfig& image, const std::string& rootfs);

}  // namespace kiln::runtime
