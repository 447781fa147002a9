// The owner BuildKit gives what a step makes: COPY/ADD --chown, and the USER a WORKDIR's directories belong to.
#pragma once

#include <cstdint>
#include <string>

#include "builder/image_view.h"
#include "common/error.h"

namespace kiln::builder {

struct Owner {
  uint32_t uid = 0, gid = 0;
};

/// "user[:group]" as BuildKit's file operations take it, through the image's etc/passwd and etc/group: a numeric
/// user is that uid with the same number as its gid, whatever passwd says (BuildKit looks up names only); a name
/// is its passwd entry's uid and primary group; a group, numeric or a name in etc/group, replaces the gid.
Result<Owner> step_owner(ImageView& image, const std::string& spec);

}  // namespace kiln::builder
