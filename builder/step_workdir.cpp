// WORKDIR: the config's working directory, and the directories it names made (owned by the current USER) when
// the image lacks them; an empty layer when it has them (but for WORKDIR /), as BuildKit's.
#include <sys/stat.h>

#include "builder/owner.h"
#include "builder/steps.h"
#include "runtime/workdir.h"

namespace kiln::builder {

Result<PreparedStep> prepare_workdir(BuildContext& b, StageState& st, const Instruction& ins) {
  PreparedStep p;
  std::string dir = TRY_CTX(expand_word(ins.args, st.vars(), b.bf.escape), b.where(ins));
  // Relative to the working directory and cleaned (WORKDIR ../other is /work/other); an absolute one is kept
  // as written, trailing slash included, as BuildKit keeps it.
  if (dir.empty() || dir[0] != '/') dir = runtime::clean_path(BuildContext::absolute(st, dir));
  st.config.config.working_dir = dir;
  p.canon = "WORKDIR " + dir;
  p.created_by = "WORKDIR " + dir;
  if (dir == "/") return p;  // the one WORKDIR BuildKit makes no layer for
  // What it makes is the cleaned path (BuildKit's mkdir joins it to "/"): /a/b/../c makes /a/c, never an "a/b/.."
  // entry, which no extractor takes.
  std::string rel = runtime::clean_path(dir).substr(1);
  auto v = b.view(st);
  if (!rel.empty()) rel = TRY(v.resolve(rel, true));  // through the image's symlinks: /link/new makes /target/new
  auto existing = rel.empty() ? std::optional<struct stat>() : TRY(v.lookup(rel));
  if (existing && !S_ISDIR(existing->st_mode))
    return make_error(ErrorCode::invalid_argument,
                      b.where(ins) + ": WORKDIR " + dir + " is not a directory in the image");
  if (rel.empty() || existing) {  // nothing to create: an empty layer, as BuildKit's mkdir of what exists
    p.make_layer = [&b]() { return b.empty_layer(); };
    return p;
  }
  // The directories it makes belong to the current USER, as BuildKit's mkdir makes them.
  std::optional<uint32_t> uid, gid;
  if (!st.config.config.user.empty()) {
    auto owner = step_owner(v, st.config.config.user);
    if (!owner) return std::move(owner).error().context(b.where(ins) + ": WORKDIR " + dir + " as USER");
    uid = owner->uid;
    gid = owner->gid;
  }
  p.make_layer = [&b, st, rel, uid, gid]() -> Result<std::optional<oci::StoredLayer>> {
    auto v = b.view(st);
    return b.write_layer([&](oci::TarStream& tar) -> Status {
      size_t pos = 0;
      while (pos != std::string::npos) {
        pos = rel.find('/', pos + 1);
        std::string acc = rel.substr(0, pos);
        TRY(tar.add_dir(acc, BuildContext::parent_meta(v, acc, uid, gid)));
      }
      return {};
    });
  };
  return p;
}

}  // namespace kiln::builder
