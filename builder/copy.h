// COPY and ADD: which files a step reads (Docker's rules for sources, wildcards, directories, destinations),
// the digest of exactly those files, and the layer they make.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "builder/ignore.h"
#include "builder/stat_cache.h"
#include "oci/tar_writer.h"

namespace kiln::builder {

/// What a COPY step asks for, after variable expansion.
struct CopyRequest {
  std::string src_root;                 ///< the context directory, or a stage's/image's root filesystem
  const IgnoreRules* ignore = nullptr;  ///< only for the context
  std::vector<std::string> sources;     ///< as written; may hold wildcards
  std::string dest;                     ///< absolute path in the image
  oci::EntryOverrides overrides;        ///< --chown (uid/gid, default 0:0) and --chmod
  std::string mode_text;                ///< --chmod as written when symbolic (its part of the cache key)
  std::vector<std::string> excludes;    ///< --exclude patterns, matched below each source (BuildKit's rule)
  bool parents = false;                 ///< --parents: keep each source's path (after a `/./` pivot) under dest
  std::string what = "COPY";            ///< names the instruction in errors
  /// --from a stage or image, ADD's extracted archive: the source's owners stay (BuildKit's rule); from the
  /// context, files are root's unless --chown says otherwise.
  bool keep_owners = false;
  /// Owner of the directories the step makes above the destination when it differs from the entries' (ADD
  /// --chown of an archive: its entries keep their owners, the directories it makes are chown's).
  std::optional<uint32_t> parent_uid, parent_gid;
  /// The source tree holds overlay whiteouts (ADD's extracted archives): the layer carries them as .wh. entries.
  bool whiteouts = false;
  /// True when the image has a file (not a directory) at a path: a directory cannot be written there.
  std::function<bool(const std::string& rel)> non_dir_at;
};

/// One thing to put in the layer: a host file or tree under an archive path.
struct CopyItem {
  enum class Take {
    contents,  ///< a directory's children go into `archive` (COPY dir /dst)
    entry,     ///< the file, or the directory with everything below it, becomes `archive` (--parents)
    self,      ///< the directory entry alone (a parent a --parents source keeps)
  };
  std::string host;     ///< absolute host path
  std::string archive;  ///< path in the layer, no leading '/'
  bool is_dir = false;
  Take take = Take::entry;
};

/// The selected files, the parents to create, and a filter for what is below directories.
struct CopyPlan {
  std::vector<CopyItem> items;
  std::vector<std::string> parents;                              ///< archive paths of directories above the destination
  std::function<bool(const std::string& rel_to_src_root)> keep;  ///< the ignore file, by context path
  /// --exclude, by the path below an item (the item itself is never excluded: BuildKit matches below it).
  std::function<bool(const std::string& rel_to_item)> excluded;
  std::string src_root;
  oci::EntryOverrides overrides;
  std::optional<uint32_t> parent_uid, parent_gid;  ///< owner of `parents` (default: overrides')
  bool whiteouts = false;                          ///< see CopyRequest::whiteouts
  std::string what = "COPY";                       ///< names the instruction in errors
};

/// Whether the image has a directory at a path (relative, no leading '/').
using DirAt = std::function<bool(const std::string&)>;

/// Decide what the step copies. dest_is_dir(path) says whether the base image has a directory there.
Result<CopyPlan> plan_copy(const CopyRequest& req, const std::function<bool(const std::string&)>& dest_is_dir);
/// A digest of everything that goes into the layer: paths, types, modes, owners, mtimes, contents.
Result<cas::Digest> hash_plan(const CopyPlan& plan, StatCache& cache, std::optional<int64_t> clamp_mtime);
/// The same for the plans of one step (ADD of archives and files), in order.
Result<cas::Digest> hash_plans(const std::vector<CopyPlan>& plans, StatCache& cache, std::optional<int64_t> clamp_mtime);
/// The context paths a COPY/ADD source names: itself, or the matches of its wildcards, sorted.
Result<std::vector<std::string>> source_matches(const std::string& root, const std::string& source);

/// Write the plans of a step into the layer tar, in order (a directory above the destination once);
/// parent_meta(plan, path) gives metadata for directories above the destination. With dir_at (where the image
/// has a directory), a file or link bound for such a path is refused, as BuildKit does (an archive's are not).
Status write_plans(const std::vector<CopyPlan>& plans, oci::TarStream& tar,
                   const std::function<oci::DirMeta(const CopyPlan&, const std::string&)>& parent_meta,
                   const DirAt& dir_at = {});

}  // namespace kiln::builder
