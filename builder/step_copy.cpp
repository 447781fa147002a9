// COPY and ADD: sources from the context, a heredoc, an earlier stage or an image (--from), ADD's URLs and
// archives; --chown/--chmod/--exclude; the destination resolved inside the image. The layer holds the files.
#include <fcntl.h>
#include <sys/stat.h>

#include "builder/add_source.h"
#include "builder/copy.h"
#include "builder/history.h"
#include "builder/owner.h"
#include "builder/steps.h"
#include "common/fd.h"
#include "common/number.h"

namespace kiln::builder {

namespace {

bool is_url(const std::string& s) { return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0; }

/// --chown=user:group resolved through the image's own /etc/passwd and /etc/group, as BuildKit resolves it.
Status resolve_chown(BuildContext& b, const StageState& st, const std::string& spec, oci::EntryOverrides& ov,
                     const Instruction& ins) {
  auto v = b.view(st);
  auto owner = step_owner(v, spec);
  if (!owner) return std::move(owner).error().context(b.where(ins) + ": --chown=" + spec);
  ov.uid = owner->uid;
  ov.gid = owner->gid;
  return {};
}

/// ADD: URLs are downloaded (and checked against --checksum); local tar archives are extracted through the
/// safe extractor, each into the destination, beside the other sources that are copied. Returns the requests
/// of the step, in the order of their sources.
Result<std::vector<CopyRequest>> add_sources(BuildContext& b, CopyRequest req, const Instruction& ins,
                                             const CopyCmd& cmd) {
  bool urls = false, locals = false;
  for (const auto& src : req.sources) (is_url(src) ? urls : locals) = true;
  if (urls && locals)
    return make_error(ErrorCode::invalid_argument, b.where(ins) + ": ADD cannot mix URLs and local files");
  if (urls) {
    std::string dir = b.tmp + "/add-" + std::to_string(ins.line);
    TRY(make_dirs(dir));
    std::vector<std::string> names;
    for (const auto& url : req.sources) {
      std::string name = url_basename(url);
      TRY_CTX(fetch_url(url, dir + "/" + name, cmd.checksum), b.where(ins));
      struct timespec epoch[2] = {{0, 0}, {0, 0}};  // a fixed mtime keeps the layer reproducible
      ::utimensat(AT_FDCWD, (dir + "/" + name).c_str(), epoch, 0);
      names.push_back(name);
    }
    req.src_root = dir;
    req.sources = names;
    req.ignore = nullptr;
    return std::vector<CopyRequest>{req};
  }
  if (cmd.checksum) return make_error(ErrorCode::invalid_argument, b.where(ins) + ": ADD --checksum is only for URLs");
  std::string first = req.sources.empty() ? "" : req.sources[0];
  auto extracted =
      TRY(split_local_archives(req, b.tmp + "/extract-" + std::to_string(ins.line), b.where(ins) + ": ADD "));
  if (!extracted) return std::vector<CopyRequest>{req};
  if (req.sources.empty()) return std::vector<CopyRequest>{*extracted};
  bool archive_first = req.sources[0] != first;
  if (archive_first) return std::vector<CopyRequest>{*extracted, req};
  return std::vector<CopyRequest>{req, *extracted};
}

/// COPY <<EOF /dst: each heredoc becomes a file in the build's temp dir; the words name them.
Result<std::string> write_heredocs(BuildContext& b, const Instruction& ins, const Vars& vars,
                                   std::vector<std::string>& words) {
  std::string root = b.tmp + "/heredoc-" + std::to_string(ins.line);
  TRY(make_dirs(root));
  for (const auto& h : ins.heredocs) {
    std::string content = h.expand ? TRY_CTX(expand_word(h.content, vars, b.bf.escape), b.where(ins)) : h.content;
    UniqueFd fd = TRY(open_fd(root + "/" + h.name, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    TRY(write_all(fd.get(), content));
    struct timespec epoch[2] = {{0, 0}, {0, 0}};  // the file is made here: its time must not vary by build
    ::futimens(fd.get(), epoch);
  }
  for (auto& w : words) {
    if (w.rfind("<<", 0) != 0) continue;
    std::string name = w.substr(2);
    if (!name.empty() && name[0] == '-') name = name.substr(1);
    if (!name.empty() && (name[0] == '"' || name[0] == '\'')) name = name.substr(1, name.size() - 2);
    w = name;
  }
  return root;
}

/// The flags that change the files: --chown (resolved in the image), --chmod, --exclude.
Status apply_copy_flags(BuildContext& b, const StageState& st, const Instruction& ins, const CopyCmd& cmd,
                        const Vars& vars, CopyRequest& req) {
  if (cmd.chown) {
    TRY(resolve_chown(b, st, TRY(expand_word(*cmd.chown, vars, b.bf.escape)), req.overrides, ins));
    if (req.keep_owners) {  // an extracted archive keeps its owners: only the directories made above it are chown's
      req.parent_uid = req.overrides.uid;
      req.parent_gid = req.overrides.gid;
      req.overrides.uid.reset();
      req.overrides.gid.reset();
    }
  }
  if (cmd.chmod) {
    std::string mode = TRY(expand_word(*cmd.chmod, vars, b.bf.escape));
    auto octal = parse_uint(mode, 07777, 8);
    if (octal) {
      req.overrides.mode = static_cast<uint32_t>(*octal);
    } else if (!mode.empty() && std::isdigit(static_cast<unsigned char>(mode[0]))) {  // BuildKit's words for these
      return make_error(ErrorCode::invalid_argument, b.where(ins) + ": invalid chmod parameter: '" + mode +
                                                         "'. it should be octal string and between 0 and 07777");
    } else {  // today's BuildKit takes chmod(1)'s symbolic form too
      req.overrides.mode_change = TRY_CTX(SymbolicMode::parse(mode), b.where(ins) + ": --chmod");
      req.mode_text = mode;
    }
  }
  req.excludes = cmd.excludes;
  req.parents = cmd.parents;
  return {};
}

std::string options_text(const CopyRequest& req) {
  auto opt = [](const std::optional<uint32_t>& v) { return v ? std::to_string(*v) : std::string("-"); };
  std::string t = "uid=" + opt(req.overrides.uid) + " gid=" + opt(req.overrides.gid) +
                  " mode=" + opt(req.overrides.mode) + " parents=" + opt(req.parent_uid) + ":" + opt(req.parent_gid);
  if (req.overrides.mode_change) t += " chmod=" + req.mode_text;
  for (const auto& e : req.excludes) t += " exclude=" + e;
  return t;
}

}  // namespace

Result<PreparedStep> prepare_copy(BuildContext& b, StageState& st, const Instruction& ins, const CopyCmd& cmd) {
  Vars vars = st.vars();
  CopyRequest req;
  req.what = ins.keyword;
  std::vector<std::string> words;
  if (ins.json) {
    for (const auto& a : ins.json_args) words.push_back(TRY_CTX(expand_word(a, vars, b.bf.escape), b.where(ins)));
  } else {
    words = TRY_CTX(expand_words(ins.args, vars, b.bf.escape), b.where(ins));
  }
  // The history names the sources as written, heredocs after the paths as "<<NAME" (BuildKit's order).
  std::vector<std::string> shown, shown_heredocs;
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    if (ins.heredocs.empty() || words[i].rfind("<<", 0) != 0) {
      shown.push_back(words[i]);
      continue;
    }
    std::string name = words[i].substr(2);
    if (!name.empty() && name[0] == '-') name = name.substr(1);
    if (name.size() >= 2 && (name[0] == '"' || name[0] == '\'')) name = name.substr(1, name.size() - 2);
    shown_heredocs.push_back("<<" + name);
  }
  shown.insert(shown.end(), shown_heredocs.begin(), shown_heredocs.end());
  std::string heredoc_root;
  if (!ins.heredocs.empty()) heredoc_root = TRY(write_heredocs(b, ins, vars, words));
  if (words.size() < 2)
    return make_error(ErrorCode::invalid_argument,
                      b.where(ins) + ": " + ins.keyword + " needs at least one source and a destination");
  req.dest = BuildContext::absolute(st, words.back());
  std::string dest_as_written = words.back();
  words.pop_back();
  req.sources = words;
  // The source: a heredoc, an earlier stage or an image (keyed by the stage's key or the image's manifest
  // digest, flattened only when the layer has to be made), or the context.
  std::optional<std::string> from;
  std::string from_key;
  if (!heredoc_root.empty()) {
    req.src_root = heredoc_root;
  } else if (cmd.from) {
    from = *cmd.from;  // as written: BuildKit expands no variable in --from (the stage plan reads it so too)
    if (auto idx = find_stage(b.stages, *from, b.stages.size())) {
      from_key = "stage " + TRY(b.built_stage(*idx, *from, ins))->key;
    } else {
      auto img = b.images.resolve(*from);
      if (!img)
        return std::move(img).error().context(b.where(ins) + ": --from=" + *from +
                                              " is neither an earlier stage nor an image in the store");
      from_key = "image " + img->manifest_digest.str();
      b.lease.add(img->id().str());
    }
    from_key += " " + *from;
  } else {
    req.src_root = b.opts.context_dir;
    req.ignore = &b.ignore;
  }
  std::vector<CopyRequest> reqs = {req};
  if (cmd.add && heredoc_root.empty()) reqs = TRY(add_sources(b, req, ins, cmd));
  auto v = std::make_shared<ImageView>(b.view(st));
  for (auto& r : reqs) {
    TRY(apply_copy_flags(b, st, ins, cmd, vars, r));
    // The destination as the image resolves it: through a symlinked directory, or a symlink (even dangling)
    // at the destination itself, the files land where the link points, and the link stays (BuildKit).
    bool slash = r.dest.back() == '/';
    std::string resolved = TRY_CTX(v->resolve(r.dest.substr(1), true), b.where(ins));
    r.dest = "/" + resolved + (slash && !resolved.empty() ? "/" : "");
    r.non_dir_at = [v](const std::string& p) {
      auto s = v->lookup(p);
      return s && *s && !S_ISDIR((*s)->st_mode);
    };
  }
  auto dest_is_dir = [v](const std::string& p) {
    auto s = v->lookup(p);
    return s && *s && S_ISDIR((*s)->st_mode);
  };
  auto write = [&b, v, dest_is_dir,
                ins](const std::vector<CopyPlan>& plans) -> Result<std::optional<oci::StoredLayer>> {
    auto layer = b.write_layer([&](oci::TarStream& tar) {
      return write_plans(
          plans, tar,
          [&](const CopyPlan& plan, const std::string& p) {
            return BuildContext::parent_meta(*v, p, plan.parent_uid, plan.parent_gid);
          },
          dest_is_dir);
    });
    if (!layer) return std::move(layer).error().context(b.where(ins));
    return layer;
  };
  PreparedStep p;
  p.created_by = copy_history(ins.keyword, cmd.parents, shown, dest_as_written);
  if (from) {
    CopyRequest r = reqs[0];
    p.canon = ins.keyword + " " + r.dest + " from " + from_key + " " + options_text(r);
    for (const auto& src : r.sources) p.canon += " " + src;
    p.make_layer = [&b, r, f = *from, ins, dest_is_dir, write]() mutable -> Result<std::optional<oci::StoredLayer>> {
      r.src_root = TRY(b.source_root(f, ins));
      r.keep_owners = true;
      auto plan = plan_copy(r, dest_is_dir);
      if (!plan) return std::move(plan).error().context(b.where(ins));
      return write({std::move(*plan)});
    };
    return p;
  }
  auto plans = std::make_shared<std::vector<CopyPlan>>();
  for (const auto& r : reqs) {
    auto plan = plan_copy(r, dest_is_dir);
    if (!plan) return std::move(plan).error().context(b.where(ins));
    plans->push_back(std::move(*plan));
  }
  auto digest = TRY_CTX(hash_plans(*plans, b.stat, b.opts.timestamp), b.where(ins));
  p.canon = ins.keyword + " " + reqs[0].dest + " " + digest.str();
  p.make_layer = [plans, write]() { return write(*plans); };
  return p;
}

}  // namespace kiln::builder
