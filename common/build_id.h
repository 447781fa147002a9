// The running executable's GNU build ID: a hash the linker computes over the program, so anything kiln
// derives from its own code (a compiled seccomp program) can be cached under it and never outlive a rebuild.
#pragma once

#include <string>

namespace kiln {

/// Hex of the main program's NT_GNU_BUILD_ID note; "" when the binary was linked without one.
const std::string& build_id_hex();

}  // namespace kiln
