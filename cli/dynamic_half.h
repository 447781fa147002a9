// The static kiln's dynamic half: a dynamically linked kiln carried inside the binary, for what needs shared
// libraries (libcurl for registries, the multithreaded zstd compressor). Only in the static build.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace kiln::cli {

/// Whether a command loads shared libraries, and so runs in the dynamic half from its start.
bool needs_dynamic_half(std::string_view command);

/// Replace this process with the dynamic half, same arguments and environment (fexecve of a sealed memfd).
/// Returns only if that failed, having printed one line; the caller exits 125.
void exec_dynamic_half(char** argv);

/// `kiln pull IMAGE` in the dynamic half, as a child process (kiln run of an image the store lacks): its
/// progress goes to stderr, its output too (stdout is the container's). The child's error line, if it fails,
/// becomes the returned error instead of a second line on the terminal.
Status pull_in_dynamic_half(const std::string& root, const std::string& image);

}  // namespace kiln::cli
