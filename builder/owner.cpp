// The owner of what a step makes, as BuildKit's file operations resolve it.
#include "builder/owner.h"

#include "runtime/user.h"

namespace kiln::builder {

Result<Owner> step_owner(ImageView& image, const std::string& spec) {
  auto passwd = TRY(image.read("etc/passwd"));
  auto group = TRY(image.read("etc/group"));
  auto u = TRY(runtime::resolve_user(spec, passwd.value_or(""), group.value_or("")));
  std::string user = spec.substr(0, spec.find(':'));
  bool numeric = !user.empty() && user.find_first_not_of("0123456789") == std::string::npos;
  bool has_group = spec.find(':') != std::string::npos;
  return Owner{u.uid, numeric && !has_group ? u.uid : u.gid};
}

}  // namespace kiln::builder
