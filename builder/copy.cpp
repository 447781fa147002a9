// COPY planning, hashing and layer writing.
#include "builder/copy.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <unordered_map>

#include "common/fd.h"

namespace kiln::builder {

namespace {

std::string clean_rel(const std::string& p) {
  std::vector<std::string> parts;
  std::stringstream in(p);
  std::string c;
  while (std::getline(in, c, '/')) {
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (parts.empty()) return "..";  // escapes the root
      parts.pop_back();
      continue;
    }
    parts.push_back(c);
  }
  std::string out;
  for (const auto& s : parts) out += (out.empty() ? "" : "/") + s;
  return out;
}

bool has_wildcard(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

std::string basename_of(const std::string& p) {
  auto s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

/// Relative paths below root whose depth equals the pattern's, matching it (Docker's per-component globs).
Result<std::vector<std::string>> glob(const std::string& root, const std::string& pattern) {
  std::vector<std::string> comps;
  std::stringstream in(pattern);
  std::string c;
  while (std::getline(in, c, '/'))
    if (!c.empty() && c != ".") comps.push_back(c);
  std::vector<std::string> current = {""};
  for (const auto& comp : comps) {
    std::vector<std::string> next;
    for (const auto& base : current) {
      std::string dir = root + (base.empty() ? "" : "/" + base);
      if (!has_wildcard(comp)) {
        struct stat st;
        if (::lstat((dir + "/" + comp).c_str(), &st) == 0) next.push_back(base.empty() ? comp : base + "/" + comp);
        continue;
      }
      DIR* d = ::opendir(dir.c_str());
      if (!d) continue;
      std::vector<std::string> names;
      while (struct dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        if (TRY(glob_match(comp, n))) names.push_back(n);
      }
      ::closedir(d);
      std::sort(names.begin(), names.end());
      for (const auto& n : names) next.push_back(base.empty() ? n : base + "/" + n);
    }
    current = std::move(next);
  }
  return current;
}

/// --parents with wildcards: BuildKit matches the pattern below the pivot as an include pattern (`**` for
/// any depth, a matching directory taken whole), so the tree under the pivot is walked, in name order.
Result<std::vector<std::string>> parents_matches(const std::string& root, const std::string& pivot,
                                                 const std::string& src) {
  auto cut = src.find("/./");
  std::string pattern = clean_rel(cut == std::string::npos ? src : src.substr(cut + 3));
  auto rules = TRY(IgnoreRules::parse(pattern));
  std::vector<std::string> out;
  std::function<Status(const std::string&)> walk = [&](const std::string& below) -> Status {
    std::string dir = root + (pivot.empty() ? "" : "/" + pivot) + (below.empty() ? "" : "/" + below);
    auto names = list_dir(dir);
    if (!names) return {};  // not a directory (or gone): nothing below it matches
    std::vector<std::string> sorted = *names;
    std::sort(sorted.begin(), sorted.end());
    for (const auto& n : sorted) {
      std::string p = below.empty() ? n : below + "/" + n;
      struct stat st;
      if (rules.excluded(p)) {
        out.push_back(pivot.empty() ? p : pivot + "/" + p);
      } else if (::lstat((dir + "/" + n).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        TRY(walk(p));
      }
    }
    return {};
  };
  TRY(walk(""));
  return out;
}

}  // namespace

Result<std::vector<std::string>> source_matches(const std::string& root, const std::string& source) {
  std::string rel = clean_rel(source);
  if (!has_wildcard(rel)) return std::vector<std::string>{rel};
  return glob(root, rel);
}

Result<CopyPlan> plan_copy(const CopyRequest& req, const std::function<bool(const std::string&)>& dest_is_dir) {
  CopyPlan plan;
  plan.src_root = req.src_root;
  plan.overrides = req.overrides;
  if (!req.keep_owners && !plan.overrides.uid) plan.overrides.uid = 0;
  if (!req.keep_owners && !plan.overrides.gid) plan.overrides.gid = 0;
  if (!req.keep_owners) plan.overrides.drop_xattrs = true;  // the context's files: see EntryOverrides
  plan.parent_uid = req.parent_uid ? req.parent_uid : plan.overrides.uid;
  plan.parent_gid = req.parent_gid ? req.parent_gid : plan.overrides.gid;
  plan.whiteouts = req.whiteouts;
  plan.what = req.what;
  std::vector<IgnoreRules> excludes;
  for (const auto& e : req.excludes) excludes.push_back(TRY(IgnoreRules::parse(e)));
  const IgnoreRules* ignore = req.ignore;

  // Resolve each source inside the root.
  struct Found {
    std::string rel;   ///< where the source resolved to, below the root (symlinks followed)
    std::string name;  ///< the name it was given by (a symlink source keeps its own name, as in BuildKit)
    struct stat st;
    std::string pivot;  ///< --parents: the part of name above the `/./` pivot, which is not kept
  };
  std::vector<Found> found;
  char real_root[PATH_MAX];
  if (!::realpath(req.src_root.c_str(), real_root)) return sys_error(req.what + ": source root " + req.src_root);
  std::string root = real_root;
  // An excluded directory is still kept when an exception of the ignore file re-includes something below it
  // (`src/build` then `!src/build/keep.o`): it is walked, and only what is kept below it is copied. Answers
  // for directories are remembered, as the walk asks again at every level.
  auto memo = std::make_shared<std::unordered_map<std::string, bool>>();
  auto kept = std::make_shared<std::function<bool(const std::string&)>>();
  *kept = [ignore, root, memo,
           weak = std::weak_ptr<std::function<bool(const std::string&)>>(kept)](const std::string& rel) -> bool {
    if (!ignore || !ignore->excluded(rel)) return true;
    if (!ignore->has_exceptions()) return false;
    if (auto it = memo->find(rel); it != memo->end()) return it->second;
    bool any = false;
    struct stat st;
    std::string host = root + "/" + rel;
    if (::lstat(host.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
      if (auto names = list_dir(host); names)
        if (auto self = weak.lock())
          for (const auto& n : *names)
            if ((any = (*self)(rel + "/" + n))) break;
    (*memo)[rel] = any;
    return any;
  };
  plan.keep = [kept](const std::string& rel) { return (*kept)(rel); };
  plan.excluded = [excludes](const std::string& rel) {
    for (const auto& e : excludes)
      if (e.excluded(rel)) return true;
    return false;
  };
  UniqueFd rootfd = TRY(open_fd(root, O_PATH | O_DIRECTORY));
  for (const auto& src : req.sources) {
    // --parents: the source's path is kept under the destination, from its `/./` pivot on if it has one.
    std::string pivot;
    if (auto cut = src.find("/./"); req.parents && cut != std::string::npos) {
      pivot = clean_rel(src.substr(0, cut));
      if (pivot == "..") pivot.clear();
    }
    std::string rel = clean_rel(src);
    if (rel == ".." || rel.rfind("../", 0) == 0)
      return make_error(ErrorCode::invalid_argument,
                        req.what + " " + src + ": the source is outside the build context");
    std::vector<std::string> matches;
    if (req.parents && has_wildcard(rel))
      matches = TRY(parents_matches(root, pivot, src));
    else if (has_wildcard(rel))
      matches = TRY(glob(root, rel));
    else
      matches.push_back(rel);
    size_t before = found.size();
    for (const auto& m : matches) {
      if (!m.empty() && !plan.keep(m)) continue;
      // Symlinks are followed inside the root, as the stage or context sees them: an absolute target starts at
      // the root, `..` stops there (RESOLVE_IN_ROOT). Where the source resolved to is read back from the fd.
      int fd = openat2_raw(rootfd.get(), m.empty() ? "." : m.c_str(), O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
      if (fd < 0) {
        if (has_wildcard(rel)) continue;
        return make_error(ErrorCode::not_found,
                          req.what + " " + src + ": not found in the build context" +
                              (req.ignore && !req.ignore->empty() ? " (or excluded by the ignore file)" : ""));
      }
      UniqueFd resolved(fd);
      char real[PATH_MAX];
      ssize_t n = ::readlink(proc_fd_path(fd).c_str(), real, sizeof real - 1);
      if (n < 0) return sys_error(req.what + " " + src);
      real[n] = '\0';
      std::string r = real;
      if (r != root && r.rfind(root + "/", 0) != 0)
        return make_error(ErrorCode::unsafe, req.what + " " + src + ": it resolves outside the build context");
      struct stat st;
      if (::fstat(fd, &st) < 0) return sys_error(req.what + " " + src);
      found.push_back(Found{r.size() > root.size() ? r.substr(root.size() + 1) : "", m, st, pivot});
    }
    // A wildcard that matches nothing copies nothing (docker 20.10's BuildKit); a name that is missing is an error.
    if (found.size() == before && !has_wildcard(rel))
      return make_error(ErrorCode::not_found,
                        req.what + " " + src + ": no source files were found in the build context" +
                            (req.ignore && !req.ignore->empty() ? " (or all are excluded by the ignore file)" : ""));
  }
  std::string dest = req.dest;
  if (found.empty()) return plan;  // only wildcards, matching nothing
  bool dest_dir = req.parents || dest.back() == '/' || (found.size() == 1 && S_ISDIR(found[0].st.st_mode));
  std::string dest_rel = clean_rel(dest);
  if (dest_rel == "..") dest_rel = "";
  if (!dest_dir && dest_is_dir && dest_is_dir(dest_rel)) dest_dir = true;
  // Several sources to a path that is not a directory (no trailing /): each is written there in turn, so the
  // last one stays, as docker 20.10's BuildKit does.
  // Parents of the destination (and the destination itself when it is a directory) exist in the layer.
  std::string acc;
  std::stringstream in(dest_rel);
  std::string comp;
  std::vector<std::string> comps;
  while (std::getline(in, comp, '/')) comps.push_back(comp);
  // A directory source makes the destination a directory even without a trailing / (BuildKit creates it).
  bool any_dir = std::any_of(found.begin(), found.end(), [](const Found& f) { return S_ISDIR(f.st.st_mode); });
  size_t parent_count = dest_dir || any_dir ? comps.size() : (comps.empty() ? 0 : comps.size() - 1);
  for (size_t i = 0; i < parent_count; ++i) {
    acc += (acc.empty() ? "" : "/") + comps[i];
    if (req.non_dir_at && req.non_dir_at(acc))
      return make_error(ErrorCode::invalid_argument, req.what + ": cannot copy to non-directory: /" + acc);
    plan.parents.push_back(acc);
  }
  std::set<std::string> kept_parents;
  for (const auto& f : found) {
    CopyItem item;
    item.host = f.rel.empty() ? root : root + "/" + f.rel;
    item.is_dir = S_ISDIR(f.st.st_mode);
    if (req.parents) {
      // The path as given, less its pivot, under the destination; its directories as the source has them.
      // The match below the pivot: as many leading components dropped as the pivot has (it may hold wildcards).
      std::string kept_path = f.name, pivot_host;
      if (!f.pivot.empty())
        for (size_t n = std::count(f.pivot.begin(), f.pivot.end(), '/') + 1; n > 0; --n) {
          auto slash = kept_path.find('/');
          std::string comp = kept_path.substr(0, slash);
          pivot_host += (pivot_host.empty() ? "" : "/") + comp;
          kept_path = slash == std::string::npos ? "" : kept_path.substr(slash + 1);
        }
      if (kept_path.empty()) {
        item.archive = dest_rel;
        item.take = item.is_dir ? CopyItem::Take::contents : CopyItem::Take::entry;
        if (!item.is_dir) item.archive = (dest_rel.empty() ? "" : dest_rel + "/") + basename_of(f.name);
        plan.items.push_back(item);
        continue;
      }
      std::string base = dest_rel.empty() ? "" : dest_rel + "/";
      for (size_t pos = kept_path.find('/'); pos != std::string::npos; pos = kept_path.find('/', pos + 1)) {
        std::string dir = kept_path.substr(0, pos);
        if (!kept_parents.insert(dir).second) continue;
        std::string host = root + "/" + (pivot_host.empty() ? "" : pivot_host + "/") + dir;
        plan.items.push_back(CopyItem{host, base + dir, true, CopyItem::Take::self});
      }
      item.archive = base + kept_path;
      item.take = CopyItem::Take::entry;
      plan.items.push_back(item);
      continue;
    }
    if (item.is_dir) {
      item.archive = dest_rel;  // a directory's contents go into the destination
      item.take = CopyItem::Take::contents;
    } else {
      item.archive = dest_dir ? (dest_rel.empty() ? "" : dest_rel + "/") + basename_of(f.name) : dest_rel;
    }
    plan.items.push_back(item);
  }
  return plan;
}

namespace {

struct Hasher {
  const CopyPlan& plan;
  StatCache& cache;
  std::optional<int64_t> clamp;
  cas::Sha256 h;
  std::string root_prefix;

  /// below: the path under the item being hashed ("" for the item), which --exclude is matched on.
  /// known: the entry's lstat, made by its parent relative to the directory's fd (a path walk of one name instead
  /// of the whole path: with 100,000 files the walks were a third of a no-op rebuild, bench/context).
  Status entry(const std::string& host, const std::string& archive, bool top, const std::string& below, bool recurse,
               const struct stat* known = nullptr) {
    struct stat st;
    if (known)
      st = *known;
    else if ((top ? ::stat(host.c_str(), &st) : ::lstat(host.c_str(), &st)) < 0)
      return sys_error("stat " + host);
    int64_t mtime = st.st_mtim.tv_sec;
    if (clamp && mtime > *clamp) mtime = *clamp;
    uint32_t mode = plan.overrides.mode_of(st.st_mode);
    std::string owner = std::to_string(plan.overrides.uid.value_or(st.st_uid)) + ":" +
                        std::to_string(plan.overrides.gid.value_or(st.st_gid)) + "\t";
    std::string line = archive + "\t" + owner + std::to_string(st.st_mode & S_IFMT) + "\t" + std::to_string(mode) +
                       "\t" + std::to_string(mtime) + (clamp ? "" : "." + std::to_string(st.st_mtim.tv_nsec)) + "\t";
    if (S_ISREG(st.st_mode))
      line += std::to_string(st.st_size) + "\t" + TRY(cache.digest(host, st)).hex();
    else if (S_ISLNK(st.st_mode)) {
      char t[PATH_MAX];
      ssize_t n = ::readlink(host.c_str(), t, sizeof t);
      if (n > 0) line.append(t, static_cast<size_t>(n));
    }
    line += "\n";
    h.update(line);
    if (!S_ISDIR(st.st_mode) || !recurse) return {};
    UniqueFd dir = TRY(open_fd(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    for (const auto& n : TRY(list_dir(host))) {
      std::string child = host + "/" + n;
      std::string rel = child.substr(root_prefix.size());
      std::string child_below = below.empty() ? n : below + "/" + n;
      if (!plan.keep(rel) || plan.excluded(child_below)) continue;
      struct stat cst;
      if (::fstatat(dir.get(), n.c_str(), &cst, AT_SYMLINK_NOFOLLOW) < 0) return sys_error("stat " + child);
      TRY(entry(child, archive + "/" + n, false, child_below, true, &cst));
    }
    return {};
  }
};

}  // namespace

Result<cas::Digest> hash_plan(const CopyPlan& plan, StatCache& cache, std::optional<int64_t> clamp_mtime) {
  char real_root[PATH_MAX];
  if (!::realpath(plan.src_root.c_str(), real_root)) return sys_error("source root " + plan.src_root);
  Hasher hs{plan, cache, clamp_mtime, {}, std::string(real_root) + "/"};
  hs.h.update("uid=" + std::to_string(plan.overrides.uid.value_or(0)) +
              " gid=" + std::to_string(plan.overrides.gid.value_or(0)) +
              " mode=" + (plan.overrides.mode ? std::to_string(*plan.overrides.mode) : "-") + "\n");
  for (const auto& p : plan.parents)
    hs.h.update("parent " + p + " " + std::to_string(plan.parent_uid.value_or(0)) + ":" +
                std::to_string(plan.parent_gid.value_or(0)) + "\n");
  for (const auto& item : plan.items) {
    hs.h.update(std::to_string(static_cast<int>(item.take)) + "\n");
    TRY(hs.entry(item.host, item.archive, true, "", item.take != CopyItem::Take::self));
  }
  return hs.h.finish();
}

Result<cas::Digest> hash_plans(const std::vector<CopyPlan>& plans, StatCache& cache,
                               std::optional<int64_t> clamp_mtime) {
  if (plans.size() == 1) return hash_plan(plans[0], cache, clamp_mtime);
  cas::Sha256 h;
  for (const auto& p : plans) h.update(TRY(hash_plan(p, cache, clamp_mtime)).str() + (p.whiteouts ? " wh\n" : "\n"));
  return h.finish();
}

namespace {

/// BuildKit's copy merges a directory into one the image has, but refuses to put anything else there (fsutil:
/// "cannot replace to directory … with file"). Only paths where the image has a directory are walked.
Status check_no_dir_replaced(const std::string& host, const std::string& archive, const std::string& below,
                             const std::function<bool(const std::string&)>& keep, const DirAt& dir_at,
                             const std::string& what) {
  if (!dir_at(archive)) return {};
  struct stat st;
  if (::lstat(host.c_str(), &st) < 0) return sys_error(what + ": stat " + host);
  if (!S_ISDIR(st.st_mode))
    return make_error(ErrorCode::invalid_argument, what + ": cannot replace the directory /" + archive +
                                                       " of the image with a file (BuildKit refuses it too)");
  for (const auto& n : TRY(list_dir(host))) {
    std::string child = below.empty() ? n : below + "/" + n;
    if (keep(child)) TRY(check_no_dir_replaced(host + "/" + n, archive + "/" + n, child, keep, dir_at, what));
  }
  return {};
}

}  // namespace

Status write_plans(const std::vector<CopyPlan>& plans, oci::TarStream& tar,
                   const std::function<oci::DirMeta(const CopyPlan&, const std::string&)>& parent_meta,
                   const DirAt& dir_at) {
  std::set<std::string> written;
  for (const auto& plan : plans) {
    for (const auto& p : plan.parents)
      if (written.insert(p).second) TRY(tar.add_dir(p, parent_meta(plan, p)));
    char real_root[PATH_MAX];
    if (!::realpath(plan.src_root.c_str(), real_root)) return sys_error("source root " + plan.src_root);
    std::string root_prefix = std::string(real_root) + "/";
    tar.set_whiteouts(plan.whiteouts);
    for (const auto& item : plan.items) {
      std::string item_rel = item.host.size() >= root_prefix.size() ? item.host.substr(root_prefix.size()) : "";
      auto keep = [&](const std::string& below) {
        std::string rel = item_rel.empty() ? below : item_rel + "/" + below;
        return plan.keep(rel) && !plan.excluded(below);
      };
      // An extracted archive replaces what is in its way, as docker's untar does; files and trees do not.
      bool check = dir_at && !plan.whiteouts;
      switch (item.take) {
        case CopyItem::Take::contents:  // the destination directory itself was written as a parent
          for (const auto& n : TRY(list_dir(item.host))) {
            if (!keep(n)) continue;
            std::string archive = item.archive.empty() ? n : item.archive + "/" + n;
            if (check) TRY(check_no_dir_replaced(item.host + "/" + n, archive, n, keep, dir_at, plan.what));
            TRY(tar.add(item.host + "/" + n, archive, plan.overrides,
                        [&, n](const std::string& below) { return keep(n + "/" + below); }));
          }
          break;
        case CopyItem::Take::entry:
          if (check) TRY(check_no_dir_replaced(item.host, item.archive, "", keep, dir_at, plan.what));
          TRY(tar.add(item.host, item.archive, plan.overrides, keep));
          break;
        case CopyItem::Take::self:
          TRY(tar.add(item.host, item.archive, plan.overrides, [](const std::string&) { return false; }));
          break;
      }
    }
    tar.set_whiteouts(false);
  }
  return {};
}

}  // namespace kiln::builder
