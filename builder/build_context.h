// What every step of a build shares: the store, the options, the stages and what they made so far, the build's
// temp dir, and the few helpers each step kind needs (the image view, layer writing, --from roots). The executor
// owns one; each step kind (step_copy, step_run, step_workdir) takes it by reference.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "builder/build_lease.h"
#include "builder/buildfile.h"
#include "builder/cache.h"
#include "builder/executor.h"
#include "builder/ignore.h"
#include "builder/image_view.h"
#include "builder/stage.h"
#include "builder/stat_cache.h"
#include "cas/store.h"
#include "oci/image_store.h"
#include "oci/tar_writer.h"

namespace kiln::builder {

/// A step, planned: its part of the cache key, its history entry, and (unless it only changes the config) how to
/// make its layer when the cache has none. A step that has a layer keeps it even when it changed nothing (an
/// empty tar), as BuildKit's RUN, COPY, ADD and WORKDIR do.
struct PreparedStep {
  std::string canon;
  std::optional<std::string> created_by;  ///< its history entry in BuildKit's words (none: no entry)
  std::function<Result<std::optional<oci::StoredLayer>>()> make_layer;
};

struct BuildContext {
  BuildContext(cas::Store& s, const BuildOptions& o, std::ostream& os)
      : store(s),
        images(s),
        cache(s),
        stat(StatCache::path_for(s.private_dir() + "/cache/stat", o.context_dir), s.tmp_dir()),
        opts(o),
        out(os) {}

  cas::Store& store;
  oci::ImageStore images;
  BuildCache cache;
  StatCache stat;
  const BuildOptions& opts;
  std::ostream& out;
  Buildfile bf;
  IgnoreRules ignore;
  BuildLease lease;
  std::vector<Stage> stages;
  Vars global_args;
  std::map<size_t, StageState> done;        ///< finished stages by index
  std::map<std::string, std::string> flat;  ///< --from sources flattened so far: key → directory
  std::string tmp;                          ///< the build's temp dir (removed at the end)
  size_t step = 0, total = 0, current = 0;  ///< progress counters; current = the stage being built
  int display_fd = -1;                      ///< the live display's event pipe (RUN output goes there), or -1

  /// "path:line" of an instruction, for errors.
  std::string where(const Instruction& ins) const { return bf.path + ":" + std::to_string(ins.line); }
  /// The stage's image so far.
  ImageView view(const StageState& st) { return ImageView(images, st.layers, st.config.diff_ids); }
  /// p against the stage's working directory (absolute p as it is).
  static std::string absolute(const StageState& st, const std::string& p);
  /// A layer written by fill(tar) into the store.
  Result<std::optional<oci::StoredLayer>> write_layer(const std::function<Status(oci::TarStream&)>& fill);
  /// A layer with nothing in it: a step that changed nothing keeps one, as BuildKit's do.
  Result<std::optional<oci::StoredLayer>> empty_layer() {
    return write_layer([](oci::TarStream&) -> Status { return {}; });
  }
  /// A directory above a destination: the image's own metadata where it exists; else made by the step, root's
  /// 0755, or owned by uid/gid (COPY --chown, WORKDIR's user) as BuildKit makes them.
  static oci::DirMeta parent_meta(ImageView& v, const std::string& path, std::optional<uint32_t> uid = std::nullopt,
                                  std::optional<uint32_t> gid = std::nullopt);
  /// The root filesystem of an earlier stage or another image (--from), flattened once per build.
  Result<std::string> source_root(const std::string& from, const Instruction& ins);
  /// The finished stage a --from names (the plan builds it first; an error, never an abort, if it did not).
  Result<const StageState*> built_stage(size_t idx, const std::string& from, const Instruction& ins) const;
};

}  // namespace kiln::builder
