// The build orchestrator: a checklist per build, per stage, per step. Each step kind plans itself
// (step_copy, step_run, step_workdir, step_metadata); this file runs them with the cache.
#include "builder/executor.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <set>

#include "builder/build_display.h"
#include "builder/history.h"
#include "builder/stage_workers.h"
#include "builder/steps.h"
#include "common/log.h"
#include "oci/distribution.h"
#include "oci/reference.h"
#include "runtime/process_config.h"

namespace kiln::builder {

namespace {

class Build {
 public:
  Build(cas::Store& store, const BuildOptions& opts, std::ostream& out)
      : m_display(opts.display_fd >= 0 && !opts.quiet ? std::make_unique<BuildDisplay>(opts.display_fd) : nullptr),
        b(store, opts, m_display && m_display->active() ? m_display->stream() : out) {
    if (m_display && m_display->active()) b.display_fd = m_display->event_fd();
  }
  ~Build() {
    if (!b.tmp.empty()) (void)remove_tree(b.tmp);
  }

  Result<BuildResult> run() {
    for (const auto& t : b.opts.tags)  // a bad name is refused before any work, not after the last step
      if (auto ref = oci::Reference::parse(t); !ref) return std::move(ref).error().context("-t");
    std::string path = b.opts.buildfile_text ? "<stdin>" : TRY(find_buildfile(b.opts.context_dir, b.opts.buildfile));
    std::string text = b.opts.buildfile_text ? *b.opts.buildfile_text : TRY(read_file(path, 4u << 20));
    b.bf = TRY(parse_buildfile(text, path));
    b.ignore = TRY(load_ignore_file(b.opts.context_dir));
    b.stat.load();
    b.lease = TRY(BuildLease::open(b.store));  // the images it resolves are in use until it ends
    b.stages = TRY(plan_stages(b.bf, b.opts.build_args, b.global_args));
    auto order = TRY(stages_for(b.stages, b.opts.target, path));
    warn_unused_build_args(order);
    for (size_t i : order) b.total += 1 + b.stages[i].steps.size();
    if (b.display_fd >= 0) m_display->total(b.total);
    std::string tmpl = b.store.tmp_dir() + "/build-XXXXXX";
    if (!::mkdtemp(tmpl.data())) return sys_error("create build temp dir");
    b.tmp = tmpl;
    TRY(build_stages(order));
    auto result = TRY(commit(b.done.at(order.back())));
    if (b.display_fd >= 0) m_display->finish(true);
    return result;
  }

 private:
  /// The final stage becomes the image: --label values, its created time, the manifest, the tags.
  Result<BuildResult> commit(StageState& final) {
    for (const auto& [k, v] : b.opts.labels) final.config.config.labels[k] = v;
    if (!final.config.history.empty()) final.config.created = final.config.history.back().created;
    std::vector<oci::StoredLayer> layers;
    for (size_t i = 0; i < final.layers.size(); ++i)
      layers.push_back(oci::StoredLayer{
          {final.layers[i].digest, final.layers[i].size}, final.config.diff_ids[i], final.layers[i].media_type});
    std::vector<std::string> refs;
    for (const auto& t : b.opts.tags) refs.push_back(TRY(oci::Reference::parse(t)).str());
    auto manifest = TRY(b.images.commit(final.config, layers, refs));
    (void)b.stat.save();
    BuildResult r;
    r.image_id = cas::sha256_of(oci::to_json(final.config)).str();
    r.manifest_digest = manifest.digest.str();
    r.steps = b.step;
    r.cached = m_cached;
    return r;
  }

  /// A --build-arg that no ARG of the stages built (or before the first FROM) declares is reported, as docker
  /// reports it; the proxy variables every build may take are not.
  void warn_unused_build_args(const std::vector<size_t>& order) {
    static const std::set<std::string> kPredefined = {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
                                                      "FTP_PROXY",  "ftp_proxy",  "NO_PROXY",    "no_proxy",
                                                      "ALL_PROXY",  "all_proxy"};
    std::set<std::string> declared;
    auto declare = [&](const Instruction& ins) {
      if (ins.keyword != "ARG") return;
      if (auto decls = parse_arg_decls(ins.args, {}, b.bf.escape))
        for (const auto& d : *decls) declared.insert(d.name);
    };
    for (const auto& ins : b.bf.instructions) {
      if (ins.keyword == "FROM") break;
      declare(ins);
    }
    for (size_t i : order)
      for (const auto& step : b.stages[i].steps) declare(*step.ins);
    std::string unused;
    for (const auto& [name, value] : b.opts.build_args)
      if (!declared.count(name) && !kPredefined.count(name)) unused += (unused.empty() ? "" : " ") + name;
    if (!unused.empty() && log::enabled(log::Level::warn))
      b.out << "[Warning] One or more build-args [" << unused << "] were not consumed\n";
  }

  std::string now() const {
    return oci::rfc3339(b.opts.timestamp ? *b.opts.timestamp : static_cast<int64_t>(::time(nullptr)));
  }

  static std::string shown(const Instruction& ins) {
    return ins.text.size() > 100 ? ins.text.substr(0, 97) + "..." : ins.text;
  }

  std::string numbered(const std::string& text) const {
    return "[" + std::to_string(b.step) + "/" + std::to_string(b.total) + "] " + text;
  }

  /// A step ended: on the live display, or as one line.
  void progress(const std::string& text, const std::string& status) {
    if (b.opts.quiet) return;
    if (b.display_fd >= 0) return m_display->done(b.step, numbered(text), status);
    b.out << numbered(text) + (status.empty() ? "" : "  " + status) + "\n";  // one write: workers share it
    b.out.flush();
  }

  /// A step with work to do began: the live display shows it running (plain output waits for its end).
  void announce(const Instruction& ins) {
    if (b.display_fd >= 0) m_display->started(b.step, numbered(shown(ins)));
  }

  /// The stage's starting state: a parent stage's (its ARGs included, as BuildKit has them), the empty image,
  /// or an image from the store (pulled when missing).
  Result<StageState> base_state(const Stage& s) {
    StageState st;
    if (s.base_stage) {
      st = b.done.at(*s.base_stage);
      st.cmd_set = false;
      st.declared_args.clear();  // its ARGs stay in scope, but RUN's history names only this stage's
    } else if (s.base == "scratch") {
      st.key = cas::sha256_of("scratch").hex();
      st.config.config.working_dir = "/";  // BuildKit's empty image has "/" as its working directory
    } else {
      oci::TransferOptions topts;
      topts.quiet = b.opts.quiet;
      topts.progress = oci::Progress::Mode::lines;  // on the live display, lines above the running steps
      topts.unpack = true;                          // a RUN needs the layer trees
      auto img = oci::resolve_or_pull(b.images, s.base, b.opts.pull, topts, b.out);
      if (!img) return std::move(img).error().context(b.where(*s.from) + ": FROM " + s.base);
      b.lease.add(img->id().str());
      st.config = img->config;
      st.layers = img->manifest.layers;
      st.key = cas::sha256_of("image " + img->manifest_digest.str()).hex();
    }
    // BuildKit gives every Linux stage a PATH: the image's, else the default one.
    if (!runtime::get_env(st.config.config.env, "PATH"))
      st.config.config.env.push_back(std::string("PATH=") + runtime::kDefaultPath);
    if (!s.platform.empty() && s.platform != "linux/amd64")
      return make_error(ErrorCode::unsupported,
                        b.where(*s.from) + ": --platform=" + s.platform + " is not supported (only linux/amd64)");
    // "layers N": a cache record of an older kiln, whose layers are made otherwise, is not taken (2: RUN,
    // COPY, ADD and WORKDIR keep a layer that changed nothing; 3: only security.capability among xattrs).
    st.key = cas::sha256_of(st.key + "\nlayers 3\nplatform linux/amd64\ncompression " +
                            oci::media::oci_layer_type(b.opts.compression) +
                            (b.opts.timestamp ? "\ntimestamp " + std::to_string(*b.opts.timestamp) : ""))
                 .hex();
    return st;
  }

  /// The base image's ONBUILD triggers, parsed as steps of their own (they run first, and are not inherited).
  Status run_triggers(const Stage& s, StageState& st) {
    std::vector<std::string> triggers = st.config.config.on_build;
    st.config.config.on_build.clear();
    std::vector<Buildfile> files;
    for (const auto& t : triggers) {
      auto tb = parse_buildfile("FROM scratch\n" + t + "\n", b.where(*s.from) + " (ONBUILD trigger of " + s.base + ")");
      if (!tb) return std::move(tb).error();
      files.push_back(std::move(*tb));
    }
    for (const auto& tb : files)
      for (size_t i = 1; i < tb.instructions.size(); ++i) {
        const Instruction& ins = tb.instructions[i];
        Step trigger{&ins, TRY(parse_command(ins, tb.path))};
        TRY(step(st, trigger, false));
      }
    return {};
  }

  /// The stages in order. Where several wait only on stages already built, forked workers build them at once (up
  /// to --jobs), filling the cache; each is then taken from the cache here, in the sequential order, so the image
  /// does not depend on the schedule. With --jobs 1, or for a stage whose worker did not start, it is built here.
  Status build_stages(const std::vector<size_t>& order) {
    std::map<size_t, size_t> first_step;  // stage → the step count before its FROM, as a sequential build counts
    size_t n = 0;
    for (size_t i : order) {
      first_step[i] = n;
      n += 1 + b.stages[i].steps.size();
    }
    std::vector<size_t> left = order;
    while (!left.empty()) {
      std::vector<size_t> ready;
      for (size_t i : left) {
        bool deps_built = true;
        for (size_t d : b.stages[i].deps) deps_built &= b.done.count(d) > 0;
        if (deps_built) ready.push_back(i);
      }
      if (ready.empty()) ready.push_back(left.front());  // cannot happen in a planned order; build in it anyway
      auto prebuilt = TRY(build_in_workers(ready, first_step));
      for (size_t i : ready) {
        b.step = first_step[i];
        auto it = prebuilt.find(i);
        TRY(build_stage(b.stages[i], it == prebuilt.end() ? nullptr : &it->second));
      }
      std::erase_if(left, [&](size_t i) { return b.done.count(i) > 0; });
    }
    return {};
  }

  /// Stages built at once by workers, each in its own process; what each found cached, by stage. The first
  /// failure in the Buildfile's order is the build's (one that only stopped because another failed is not).
  Result<std::map<size_t, size_t>> build_in_workers(const std::vector<size_t>& ready,
                                                    const std::map<size_t, size_t>& first_step) {
    std::map<size_t, size_t> out;
    int jobs = b.opts.jobs > 0 ? b.opts.jobs : default_build_jobs();
    if (ready.size() < 2 || jobs < 2) return out;
    std::vector<WorkerJob> work;
    for (size_t i : ready)
      work.push_back([this, i, &first_step]() -> Result<size_t> {
        b.tmp += "/stage-" + std::to_string(i);  // its own: temp names are made from line numbers
        if (::mkdir(b.tmp.c_str(), 0700) < 0) return sys_error("create " + b.tmp);
        b.store.keep_temp_in(b.tmp);  // stopped half way (SIGTERM when another stage fails), it leaves them here
        b.step = first_step.at(i);
        m_cached = 0;
        auto built = build_stage(b.stages[i]);
        b.out.flush();  // the worker ends with _exit
        if (!built) return std::move(built).error();
        return m_cached;
      });
    b.out.flush();
    log::debug("build: stages " + std::to_string(ready.size()) + " at once, " + std::to_string(jobs) + " jobs");
    int cancelled_by = 0;
    auto results = run_in_workers(work, jobs, &cancelled_by);
    std::optional<Error> stopped;
    for (size_t k = 0; k < ready.size(); ++k) {
      if (!results[k]) continue;  // not started: built here
      if (*results[k]) {
        out[ready[k]] = *results[k].value();
      } else if (results[k]->error().code != ErrorCode::cancelled) {
        return std::move(*results[k]).error();
      } else if (!stopped) {
        stopped = std::move(*results[k]).error();
      }
    }
    if (cancelled_by)
      return stopped && stopped->message.find(" in step ") != std::string::npos
                 ? *stopped
                 : make_error(ErrorCode::cancelled, "build cancelled (SIG" + std::string(sigabbrev_np(cancelled_by)) +
                                                        "); nothing was tagged");
    if (stopped) return *stopped;
    return out;
  }

  /// One stage, step by step. prebuilt: a worker built it and found that many steps cached; its steps are taken
  /// from the cache (whatever --no-cache says) without a line, as the worker printed them.
  Status build_stage(const Stage& s, const size_t* prebuilt = nullptr) {
    b.current = s.index;
    ++b.step;
    m_replay = prebuilt != nullptr;
    StageState st = TRY(base_state(s));
    if (!m_replay) progress("FROM " + s.base + (s.name.empty() ? "" : " AS " + s.name), "");
    TRY(run_triggers(s, st));
    for (const Step& one : s.steps) TRY(step(st, one, true));
    if (prebuilt) m_cached += *prebuilt;
    m_replay = false;
    b.done[s.index] = std::move(st);
    return {};
  }

  /// Plan the step by its kind; the cache key is the state so far plus the step's canonical text.
  Result<PreparedStep> prepare(StageState& st, const Step& s) {
    const Instruction& ins = *s.ins;
    if (auto* c = std::get_if<CopyCmd>(&s.cmd)) return prepare_copy(b, st, ins, *c);
    if (auto* r = std::get_if<RunCmd>(&s.cmd)) return prepare_run(b, st, ins, *r);
    if (std::holds_alternative<WorkdirCmd>(s.cmd)) return prepare_workdir(b, st, ins);
    auto m = TRY(apply_metadata(s, st, b.opts.build_args, b.global_args, b.bf.escape, b.where(ins)));
    PreparedStep p;
    p.canon = std::move(m.canon);
    p.created_by = std::move(m.created_by);
    return p;
  }

  /// One step: plan it, take its result from the cache or make its layer, add it to the stage's image.
  Status step(StageState& st, const Step& s, bool counted) {
    const Instruction& ins = *s.ins;
    if (counted) ++b.step;
    auto t0 = std::chrono::steady_clock::now();
    PreparedStep p = TRY(prepare(st, s));
    std::string key = cas::sha256_of(st.key + "\n" + p.canon).hex();
    std::optional<CacheRecord> rec;
    if (!b.opts.no_cache || m_replay) rec = b.cache.get(key);
    bool cached = rec.has_value();
    bool replayed = m_replay && cached;  // a worker built it and printed its line
    log::debug("build: " + b.where(ins) + ": cache key " + key.substr(0, 12) + (cached ? ", found" : ", not found"));
    if (!cached) {
      rec = CacheRecord{};
      if (p.make_layer) {
        announce(ins);
        auto layer = p.make_layer();
        if (!layer) {
          if (b.display_fd >= 0) m_display->done(b.step, numbered(shown(ins)), "ERROR");
          return std::move(layer).error();
        }
        rec->layer = std::move(*layer);
      }
      rec->created = now();
      TRY(b.cache.put(key, *rec));
    } else if (!replayed) {
      ++m_cached;
    }
    if (b.opts.timestamp) rec->created = now();
    st.key = key;
    if (rec->layer) {
      st.layers.push_back(
          oci::Descriptor{rec->layer->media_type, rec->layer->blob.digest, rec->layer->blob.size, {}, std::nullopt});
      st.config.diff_ids.push_back(rec->layer->diff_id);
    }
    if (p.created_by)
      st.config.history.push_back(oci::HistoryEntry{rec->created, *p.created_by, kHistoryComment, !rec->layer});
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char buf[32];
    snprintf(buf, sizeof buf, "%.2fs", secs);
    if (!replayed) progress(shown(ins), cached ? "CACHED" : buf);
    return {};
  }

  std::unique_ptr<BuildDisplay> m_display;  ///< before b: b's output may be its stream
  BuildContext b;
  size_t m_cached = 0;
  bool m_replay = false;  ///< taking a stage a worker built from the cache
};

}  // namespace

Result<std::string> find_buildfile(const std::string& context_dir, const std::string& given) {
  if (!given.empty()) {
    if (!path_exists(given)) return make_error(ErrorCode::not_found, "Buildfile " + given + " does not exist");
    return given;
  }
  for (const char* name : {"Buildfile", "Containerfile", "Dockerfile"}) {
    std::string p = context_dir + "/" + name;
    if (path_exists(p)) return p;
  }
  return make_error(ErrorCode::not_found,
                    "no Buildfile, Containerfile or Dockerfile in " + context_dir + " (use -f FILE)");
}

Result<BuildResult> build(cas::Store& store, const BuildOptions& opts, std::ostream& out) {
  auto lock = TRY(store.writer_lock());
  Build b(store, opts, out);
  return b.run();
}

}  // namespace kiln::builder
