// The build orchestrator: a checklist per stage, a checklist per step.
#include "builder/executor.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <ctime>

#include "builder/add_source.h"
#include "builder/build_lease.h"
#include "builder/buildfile.h"
#include "builder/cache.h"
#include "builder/copy.h"
#include "builder/image_view.h"
#include "builder/run_step.h"
#include "builder/stage.h"
#include "builder/step_output.h"
#include "cas/layer_trees.h"
#include "cas/lock.h"
#include "common/fd.h"
#include "oci/distribution.h"
#include "oci/extract.h"
#include "oci/image_store.h"
#include "oci/reference.h"
#include "oci/tar_writer.h"
#include "runtime/container.h"
#include "runtime/options.h"
#include "runtime/process_config.h"
#include "runtime/seccomp_cache.h"
#include "runtime/user.h"
#include "runtime/workdir.h"
#include "common/number.h"
#include "common/json.h"

#include <nlohmann/json.hpp>

namespace kiln::builder {

namespace {

std::string nlohmann_json_array(const std::vector<std::string>& v) { return json_text(nlohmann::json(v)); }

class Build {
 public:
  Build(cas::Store& store, const BuildOptions& opts, std::ostream& out)
      : m_store(store),
        m_images(store),
        m_cache(store),
        m_stat(store.private_dir() + "/cache/context-stat"),
        m_opts(opts),
        m_out(out) {}
  ~Build() {
    if (!m_tmp.empty()) (void)remove_tree(m_tmp);
  }

  Result<BuildResult> run() {
    std::string path = TRY(find_buildfile(m_opts.context_dir, m_opts.buildfile));
    std::string text = TRY(read_file(path, 4u << 20));
    m_bf = TRY(parse_buildfile(text, path));
    m_ignore = TRY(load_ignore_file(m_opts.context_dir));
    m_stat.load();
    m_lease = TRY(BuildLease::open(m_store));  // the images it resolves are in use until it ends
    m_stages = TRY(plan_stages(m_bf, m_opts.build_args, m_global_args));
    auto order = TRY(stages_for(m_stages, m_opts.target, path));
    for (size_t i : order) m_total += 1 + m_stages[i].steps.size();
    std::string tmpl = m_store.tmp_dir() + "/build-XXXXXX";
    if (!::mkdtemp(tmpl.data())) return sys_error("create build temp dir");
    m_tmp = tmpl;
    for (size_t i : order) TRY(build_stage(m_stages[i]));
    StageState& final = m_done.at(order.back());
    for (const auto& [k, v] : m_opts.labels) final.config.config.labels[k] = v;
    if (!final.config.history.empty()) final.config.created = final.config.history.back().created;
    std::vector<oci::StoredLayer> layers;
    for (size_t i = 0; i < final.layers.size(); ++i)
      layers.push_back(oci::StoredLayer{
          {final.layers[i].digest, final.layers[i].size}, final.config.diff_ids[i], final.layers[i].media_type});
    std::vector<std::string> refs;
    for (const auto& t : m_opts.tags) refs.push_back(TRY(oci::Reference::parse(t)).str());
    auto manifest = TRY(m_images.commit(final.config, layers, refs));
    (void)m_stat.save();
    BuildResult r;
    r.image_id = cas::sha256_of(oci::to_json(final.config)).str();
    r.manifest_digest = manifest.digest.str();
    r.steps = m_step;
    r.cached = m_cached;
    return r;
  }

 private:
  std::string where(const Instruction& ins) const { return m_bf.path + ":" + std::to_string(ins.line); }

  std::string now() const {
    return oci::rfc3339(m_opts.timestamp ? *m_opts.timestamp : static_cast<int64_t>(::time(nullptr)));
  }

  static std::string shown(const Instruction& ins) {
    return ins.text.size() > 100 ? ins.text.substr(0, 97) + "..." : ins.text;
  }

  void progress(const std::string& text, const std::string& status) {
    if (m_opts.quiet) return;
    // On a terminal a step that was announced (and printed nothing since) gets its line finished in place.
    if (m_announced) m_out << "\r\x1b[2K";
    m_announced = false;
    m_out << "[" << m_step << "/" << m_total << "] " << text << (status.empty() ? "" : "  " + status) << "\n";
    m_out.flush();
  }

  /// On a terminal, a step that has work to do shows at once: a RUN on its own line (its output follows), others
  /// as a line that progress() completes.
  void announce(const Instruction& ins) {
    if (m_opts.quiet || !m_opts.live) return;
    m_out << "[" << m_step << "/" << m_total << "] " << shown(ins) << (ins.keyword == "RUN" ? "\n" : "  ...");
    m_out.flush();
    m_announced = ins.keyword != "RUN";
  }

  Status build_stage(const Stage& s) {
    m_current = s.index;
    StageState st;
    ++m_step;
    std::string base_text = "FROM " + s.base + (s.name.empty() ? "" : " AS " + s.name);
    if (s.base_stage) {  // the parent stage's state, its ARGs included (as BuildKit has them)
      st = m_done.at(*s.base_stage);
      st.cmd_set = false;
    } else if (s.base == "scratch") {
      st.key = cas::sha256_of("scratch").hex();
      st.config.config.working_dir = "/";  // BuildKit's empty image has "/" as its working directory
    } else {
      oci::TransferOptions topts;
      topts.quiet = m_opts.quiet;
      topts.progress = m_opts.live ? oci::Progress::Mode::live : oci::Progress::Mode::lines;
      auto img = oci::resolve_or_pull(m_images, s.base, m_opts.pull, topts, m_out);
      if (!img) return std::move(img).error().context(where(*s.from) + ": FROM " + s.base);
      m_lease.add(img->id().str());
      st.config = img->config;
      st.layers = img->manifest.layers;
      st.key = cas::sha256_of("image " + img->manifest_digest.str()).hex();
    }
    // BuildKit gives every Linux stage a PATH: the image's, else the default one.
    if (!runtime::get_env(st.config.config.env, "PATH")) st.config.config.env.push_back(std::string("PATH=") + runtime::kDefaultPath);
    if (!s.platform.empty() && s.platform != "linux/amd64")
      return make_error(ErrorCode::unsupported,
                        where(*s.from) + ": --platform=" + s.platform + " is not supported (only linux/amd64)");
    st.key = cas::sha256_of(st.key + "\nplatform linux/amd64\ncompression " +
                            oci::media::oci_layer_type(m_opts.compression) +
                            (m_opts.timestamp ? "\ntimestamp " + std::to_string(*m_opts.timestamp) : ""))
                 .hex();
    progress(base_text, "");
    // ONBUILD triggers of the base image run first, then are not inherited.
    std::vector<std::string> triggers = st.config.config.on_build;
    st.config.config.on_build.clear();
    std::vector<Buildfile> trigger_files;
    for (const auto& t : triggers) {
      auto tb = parse_buildfile("FROM scratch\n" + t + "\n", where(*s.from) + " (ONBUILD trigger of " + s.base + ")");
      if (!tb) return std::move(tb).error();
      trigger_files.push_back(std::move(*tb));
    }
    for (const auto& tb : trigger_files)
      for (size_t i = 1; i < tb.instructions.size(); ++i) TRY(step(st, tb.instructions[i], false));
    for (const Instruction* ins : s.steps) TRY(step(st, *ins, true));
    m_done[s.index] = std::move(st);
    return {};
  }

  Status step(StageState& st, const Instruction& ins, bool counted) {
    if (counted) ++m_step;
    auto t0 = std::chrono::steady_clock::now();
    std::string canon;
    std::function<Result<std::optional<oci::StoredLayer>>()> make_layer;
    const std::string& k = ins.keyword;
    if (k == "COPY" || k == "ADD") {
      TRY(prepare_copy(st, ins, canon, make_layer));
    } else if (k == "WORKDIR") {
      TRY(prepare_workdir(st, ins, canon, make_layer));
    } else if (k == "RUN") {
      TRY(prepare_run(st, ins, canon, make_layer));
    } else {
      canon = TRY(apply_metadata(ins, st, m_opts.build_args, m_global_args, m_bf.escape, where(ins)));
    }
    std::string key = cas::sha256_of(st.key + "\n" + canon).hex();
    std::optional<CacheRecord> rec;
    if (!m_opts.no_cache) rec = m_cache.get(key);
    bool cached = rec.has_value();
    if (!cached) {
      rec = CacheRecord{};
      if (make_layer) {
        announce(ins);
        auto layer = make_layer();
        if (!layer) {
          if (m_announced) m_out << "\n";  // the error line starts on a line of its own
          m_announced = false;
          return std::move(layer).error();
        }
        rec->layer = std::move(*layer);
      }
      rec->created = now();
      TRY(m_cache.put(key, *rec));
    } else {
      ++m_cached;
    }
    if (m_opts.timestamp) rec->created = now();
    st.key = key;
    oci::HistoryEntry h{rec->created, ins.text, "", !rec->layer};
    if (rec->layer) {
      st.layers.push_back(
          oci::Descriptor{rec->layer->media_type, rec->layer->blob.digest, rec->layer->blob.size, {}, std::nullopt});
      st.config.diff_ids.push_back(rec->layer->diff_id);
    }
    st.config.history.push_back(h);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char buf[32];
    snprintf(buf, sizeof buf, "%.2fs", secs);
    progress(shown(ins), cached ? "CACHED" : buf);
    return {};
  }

  /// A layer written by fill(tar) into the store.
  Result<std::optional<oci::StoredLayer>> write_layer(const std::function<Status(oci::TarStream&)>& fill) {
    auto stream = TRY(oci::LayerStream::create(m_store, m_opts.compression));
    oci::TarOptions topts;
    topts.clamp_mtime = m_opts.timestamp;
    oci::LayerStream* ls = stream.get();
    oci::TarStream tar(topts, [ls](const void* d, size_t n) { return ls->write(d, n); });
    TRY(fill(tar));
    TRY(tar.close());
    return std::optional<oci::StoredLayer>(TRY(stream->commit()));
  }

  ImageView view(const StageState& st) { return ImageView(m_images, st.layers, st.config.diff_ids); }

  /// Metadata of a directory above a COPY destination: the image's own if it has one, else root 0755.
  /// A directory above a destination: the image's own metadata where it exists; else made by the step, root's
  /// 0755, or owned by `owner` (COPY --chown, WORKDIR's user) as BuildKit makes them.
  oci::DirMeta parent_meta(ImageView& v, const std::string& path, std::optional<uint32_t> uid = std::nullopt,
                           std::optional<uint32_t> gid = std::nullopt) {
    oci::DirMeta m;
    m.uid = uid.value_or(0);
    m.gid = gid.value_or(m.uid == 0 ? 0 : m.uid);
    auto st = v.lookup(path);
    if (st && *st && S_ISDIR((*st)->st_mode)) {
      m = {};
      m.mode = (*st)->st_mode & 07777;
      m.uid = (*st)->st_uid;
      m.gid = (*st)->st_gid;
      m.mtime = (*st)->st_mtim.tv_sec;
    }
    return m;
  }

  std::string absolute(const StageState& st, const std::string& p) {
    if (!p.empty() && p[0] == '/') return p;
    std::string wd = st.config.config.working_dir.empty() ? "/" : st.config.config.working_dir;
    if (wd.back() != '/') wd += '/';
    return wd + p;
  }

  Status prepare_workdir(StageState& st, const Instruction& ins, std::string& canon,
                         std::function<Result<std::optional<oci::StoredLayer>>()>& make_layer) {
    std::string dir = TRY_CTX(expand_word(ins.args, st.vars(), m_bf.escape), where(ins));
    // Relative to the working directory and cleaned (WORKDIR ../other is /work/other); an absolute one is kept
    // as written, trailing slash included, as BuildKit keeps it.
    if (dir.empty() || dir[0] != '/') dir = runtime::clean_path(absolute(st, dir));
    st.config.config.working_dir = dir;
    canon = "WORKDIR " + dir;
    std::string rel = dir.substr(1);
    while (!rel.empty() && rel.back() == '/') rel.pop_back();
    if (rel.empty()) return {};
    auto v = view(st);
    rel = TRY(v.resolve(rel, true));  // through the image's symlinks: WORKDIR /link/new makes /target/new
    if (rel.empty()) return {};
    auto existing = TRY(v.lookup(rel));
    if (existing && !S_ISDIR(existing->st_mode))
      return make_error(ErrorCode::invalid_argument, where(ins) + ": WORKDIR " + dir + " is not a directory in the image");
    if (existing) return {};  // nothing to create: no layer, like BuildKit
    // The directories it makes belong to the current USER, as BuildKit's mkdir makes them.
    std::optional<uint32_t> uid, gid;
    if (!st.config.config.user.empty()) {
      auto passwd = TRY(v.read("etc/passwd"));
      auto group = TRY(v.read("etc/group"));
      auto u = runtime::resolve_user(st.config.config.user, passwd.value_or(""), group.value_or(""));
      if (!u) return std::move(u).error().context(where(ins) + ": WORKDIR " + dir + " as USER");
      uid = u->uid;
      gid = u->gid;
    }
    make_layer = [this, st, rel, uid, gid]() -> Result<std::optional<oci::StoredLayer>> {
      auto v = view(st);
      return write_layer([&](oci::TarStream& tar) -> Status {
        std::string acc;
        size_t pos = 0;
        while (pos != std::string::npos) {
          pos = rel.find('/', pos + 1);
          acc = rel.substr(0, pos);
          TRY(tar.add_dir(acc, parent_meta(v, acc, uid, gid)));
        }
        return {};
      });
    };
    return {};
  }

  /// --chown=user:group resolved through the image's own /etc/passwd and /etc/group.
  Status resolve_chown(StageState& st, const std::string& spec, oci::EntryOverrides& ov, const Instruction& ins) {
    auto v = view(st);
    auto passwd = TRY(v.read("etc/passwd"));
    auto group = TRY(v.read("etc/group"));
    auto u = runtime::resolve_user(spec, passwd.value_or(""), group.value_or(""));
    if (!u) return std::move(u).error().context(where(ins) + ": --chown=" + spec);
    ov.uid = u->uid;
    ov.gid = spec.find(':') == std::string::npos && !passwd ? u->uid : u->gid;
    if (spec.find(':') == std::string::npos) {
      // docker: --chown=user without a group uses the user's primary group (or the same number).
      bool numeric = spec.find_first_not_of("0123456789") == std::string::npos;
      if (numeric && u->gid == 0 && u->uid != 0) ov.gid = u->uid;
    }
    return {};
  }

  /// The root filesystem of an earlier stage or another image, flattened once per build.
  Result<std::string> source_root(const std::string& from, const Stage& s, const Instruction& ins) {
    auto idx = find_stage(m_stages, from, m_stages.size());  // plan_stages refused --from cycles
    (void)s;
    std::string key = idx ? "stage-" + std::to_string(*idx) : "image-" + from;
    if (auto it = m_flat.find(key); it != m_flat.end()) return it->second;
    std::string dir = m_tmp + "/" + cas::sha256_of(key).hex().substr(0, 16);
    TRY(make_dirs(dir));
    oci::Image img;
    if (idx) {
      const StageState& other = m_done.at(*idx);
      img.manifest.layers = other.layers;
      img.config = other.config;
    } else {
      auto found = m_images.resolve(from);
      if (!found)
        return std::move(found).error().context(where(ins) + ": --from=" + from +
                                                " is neither a stage nor an image in the store");
      img = *found;
      m_lease.add(img.id().str());
    }
    TRY(m_images.flatten(img, dir));
    m_flat[key] = dir;
    return dir;
  }

  /// One RUN --mount as the runtime takes it, its part of the step's cache key, and the lock it needs;
  /// nothing for a secret that was not given and is not required.
  Result<std::optional<runtime::MountSpec>> run_mount(const Instruction& ins, const RunMount& m, std::string& mount_key,
                                                      std::vector<std::string>& locks) {
    runtime::MountSpec ms;
    ms.target = m.target;
    mount_key += "mount " + m.type + " " + m.target + " ro=" + (m.readonly ? "1" : "0");
    if (m.type == "tmpfs") {
      ms.type = runtime::MountSpec::Type::tmpfs;
    } else if (m.type == "secret") {
      auto it = m_opts.secrets.find(m.id);
      if (it == m_opts.secrets.end()) {
        if (m.required)
          return make_error(ErrorCode::not_found, where(ins) + ": secret " + m.id +
                                                      " was not given (kiln build --secret id=" + m.id + ",src=FILE)");
        return std::optional<runtime::MountSpec>{};
      }
      ms.source = it->second;
      ms.readonly = true;
      mount_key += " secret " + m.id;  // the id, never the content
    } else if (m.type == "cache") {
      // Persistent per id across builds, in the store; dropped by `kiln gc --cache`.
      // uid, gid and mode are part of a cache's identity: a cache made for another owner is another cache.
      std::string identity = m.id + " uid:gid:mode=" + std::to_string(m.uid.value_or(0)) + ':' + std::to_string(m.gid.value_or(0)) +
                             ':' + (m.mode.empty() ? "0755" : m.mode);
      std::string dir = m_store.private_dir() + "/cache/mounts/" + cas::sha256_of(identity).hex().substr(0, 32);
      if (!path_exists(dir)) {
        TRY(make_dirs(dir, 0755));
        if (!m.mode.empty()) ::chmod(dir.c_str(), static_cast<mode_t>(parse_uint(m.mode, 07777, 8).value_or(0755)));
        if (m.uid || m.gid) (void)!::chown(dir.c_str(), m.uid.value_or(0), m.gid.value_or(0));
      }
      if (m.sharing == "locked") locks.push_back(dir + ".lock");
      ms.source = dir;
      ms.readonly = false;
      mount_key += " cache " + identity;
    } else {  // bind: from the context (default) or another stage/image; read-only, or rw with writes discarded
      std::string root;
      if (!m.from.empty()) {
        root = TRY(source_root(m.from, m_stages[m_current], ins));
        auto idx = find_stage(m_stages, m.from, m_stages.size());
        mount_key += " from " + (idx ? m_done.at(*idx).key : m.from);
      } else {
        root = m_opts.context_dir;
      }
      std::string src = m.source.empty() ? "." : m.source;
      CopyRequest req;
      req.src_root = root;
      req.ignore = m.from.empty() ? &m_ignore : nullptr;
      req.sources = {src};
      req.dest = "/";
      req.what = "RUN --mount";
      auto plan = plan_copy(req, {});
      if (!plan) return std::move(plan).error().context(where(ins));
      if (m.from.empty()) mount_key += " " + TRY(hash_plan(*plan, m_stat, std::nullopt)).str();
      char real[PATH_MAX];
      if (!::realpath((root + "/" + src).c_str(), real)) return sys_error(where(ins) + ": RUN --mount source " + src);
      ms.source = real;
      ms.readonly = m.readonly;
      if (!m.readonly) {
        struct stat sst;
        if (::stat(real, &sst) < 0 || !S_ISDIR(sst.st_mode))
          return make_error(ErrorCode::unsupported,
                            where(ins) + ": RUN --mount=type=bind,rw needs a directory source, not " + src);
        ms.discard_writes = true;  // as BuildKit: writable, and the writes are thrown away
      }
    }
    mount_key += "\n";
    return std::optional<runtime::MountSpec>{std::move(ms)};
  }

  /// RUN: plan the container (argv, env, mounts) and the key; the layer is the upperdir of the run.
  Status prepare_run(StageState& st, const Instruction& ins, std::string& canon,
                     std::function<Result<std::optional<oci::StoredLayer>>()>& make_layer) {
    std::string step_name = "step " + std::to_string(m_step) + "/" + std::to_string(m_total) + " RUN";
    std::string network = m_opts.network;
    for (const auto& f : ins.flags) {
      std::string name = f.substr(2, f.find('=') == std::string::npos ? std::string::npos : f.find('=') - 2);
      if (name != "mount" && name != "network")
        return make_error(ErrorCode::invalid_argument, where(ins) + ": unknown flag " + f + " for RUN");
    }
    if (auto n = flag_value(ins, "network")) network = *n == "default" ? m_opts.network : *n;
    if (network != "host" && network != "none")
      return make_error(ErrorCode::invalid_argument, where(ins) + ": RUN --network must be host, none or default");
    std::string script;
    std::string script_in_ctr = kScriptInContainer;
    auto argv = run_argv(ins, stage_shell(st), script, script_in_ctr);
    // ARG values are in the environment of RUN (ENV wins), but not in the image.
    std::vector<std::string> env = st.config.config.env;
    for (const auto& [k, v] : st.args)
      if (!runtime::get_env(env, k) || st.args_over_env.count(k)) runtime::set_env(env, k, v);
    if (!runtime::get_env(env, "PATH")) runtime::set_env(env, "PATH", runtime::kDefaultPath);
    std::vector<runtime::MountSpec> mounts;
    std::string mount_key;
    std::vector<std::string> locks;
    for (const auto& mv : flag_values(ins, "mount")) {
      RunMount m = TRY(parse_run_mount(TRY_CTX(expand_word(mv, st.vars(), m_bf.escape), where(ins)), where(ins)));
      if (!m.target.empty() && m.target[0] != '/') m.target = absolute(st, m.target);
      TRY_CTX(runtime::check_target(m.target), where(ins) + ": RUN --mount");
      if (auto ms = TRY(run_mount(ins, m, mount_key, locks))) mounts.push_back(std::move(*ms));
    }
    if (!script.empty() && argv.size() == 1 && argv[0] == script_in_ctr) {
      std::string host_script = m_tmp + "/script-" + std::to_string(ins.line);
      UniqueFd fd = TRY(open_fd(host_script, O_WRONLY | O_CREAT | O_TRUNC, 0755));
      TRY(write_all(fd.get(), script));
      ::fchmod(fd.get(), 0755);
      runtime::MountSpec script_mount;
      script_mount.source = host_script;
      script_mount.target = script_in_ctr;
      script_mount.readonly = true;
      mounts.push_back(script_mount);
      mount_key += "script " + cas::sha256_of(script).str() + "\n";
    }
    std::string user = st.config.config.user;
    std::string cwd = st.config.config.working_dir.empty() ? "/" : st.config.config.working_dir;
    canon = "RUN " + nlohmann_json_array(argv) + "\nenv " + nlohmann_json_array(env) + "\nuser " + user + "\ncwd " +
            cwd + "\nnetwork " + network + "\n" + mount_key;
    make_layer = [this, st, argv, env, user, cwd, network, mounts, locks, step_name,
                  ins]() -> Result<std::optional<oci::StoredLayer>> {
      std::vector<cas::FileLock> held;
      for (const auto& l : locks) held.push_back(TRY(cas::FileLock::acquire(l, cas::FileLock::Mode::exclusive)));
      auto v = view(st);
      runtime::ContainerSpec spec;
      spec.id = cas::sha256_of(m_tmp + std::to_string(ins.line) + std::to_string(::getpid()) +
                               std::to_string(::time(nullptr)))
                    .hex();
      spec.name = "kiln-build-" + spec.id.substr(0, 12);
      spec.seccomp_cache = runtime::seccomp_cache_dir(m_store.root());
      spec.image = "build " + where(ins);
      spec.layers = TRY(v.roots());
      std::string upper = m_tmp + "/upper-" + std::to_string(ins.line);
      TRY(make_dirs(upper, 0755));
      TRY(make_dirs(upper + ".work", 0700));
      spec.upperdir = upper;
      spec.args = argv;
      spec.env = env;
      spec.cwd = cwd;
      spec.user = user;
      spec.hostname = "buildkitsandbox";  // what a RUN sees as its hostname under BuildKit
      spec.network = network == "none" ? runtime::Network::none : runtime::Network::host;
      spec.mounts = mounts;
      spec.kill_on_interrupt = true;  // Ctrl-C cancels the step (and the build), it is not the command's to ignore
      runtime::RunOutcome out;
      std::string tail;
      {
        StepOutput so(m_out, "[" + std::to_string(m_step) + "/" + std::to_string(m_total) + "] | ", m_opts.quiet,
                      m_tmp + "/tail-" + std::to_string(ins.line));
        out = runtime::run_container(spec);
        so.finish();
        tail = so.tail();
      }
      if (out.failed_to_start) return std::move(out.error).context(where(ins) + ": " + step_name);
      if (out.exit_code != 0)
        return make_error(ErrorCode::generic, where(ins) + ": " + step_name + " " + ins.args.substr(0, 60) +
                                                  (ins.args.size() > 60 ? "…" : "") + ": exit status " +
                                                  std::to_string(out.exit_code) +
                                                  (tail.empty() ? "" : "; last output:\n" + tail));
      TRY(fix_copied_up_dirs(upper, v, spec));
      TRY(leave_mountpoints(upper, v, spec, kScriptInContainer));
      auto entries = TRY(cas::LayerTrees::measure(upper));
      std::optional<oci::StoredLayer> layer;
      if (entries.entries > 0) {
        auto stream = TRY(oci::LayerStream::create(m_store, m_opts.compression));
        oci::TarOptions topts;
        topts.clamp_mtime = m_opts.timestamp;
        topts.overlay_upper = true;
        oci::LayerStream* ls = stream.get();
        TRY(oci::write_tar(upper, topts, [ls](const void* d, size_t n) { return ls->write(d, n); }));
        layer = TRY(stream->commit());
      }
      (void)remove_tree(upper);
      (void)remove_tree(upper + ".work");
      return layer;
    };
    return {};
  }

  static bool is_url(const std::string& s) { return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0; }

  /// ADD: URLs are downloaded (and checked against --checksum); a single local tar archive is extracted
  /// through the safe extractor. Either way the step then copies from a directory of the build's own.
  Status prepare_add_sources(CopyRequest& req, const Instruction& ins) {
    bool urls = false, locals = false;
    for (const auto& src : req.sources) (is_url(src) ? urls : locals) = true;
    if (urls && locals)
      return make_error(ErrorCode::invalid_argument, where(ins) + ": ADD cannot mix URLs and local files");
    if (urls) {
      std::string dir = m_tmp + "/add-" + std::to_string(ins.line);
      TRY(make_dirs(dir));
      std::vector<std::string> names;
      auto checksum = flag_value(ins, "checksum");
      for (const auto& url : req.sources) {
        std::string name = url_basename(url);
        TRY_CTX(fetch_url(url, dir + "/" + name, checksum), where(ins));
        struct timespec epoch[2] = {{0, 0}, {0, 0}};  // a fixed mtime keeps the layer reproducible
        ::utimensat(AT_FDCWD, (dir + "/" + name).c_str(), epoch, 0);
        names.push_back(name);
      }
      req.src_root = dir;
      req.sources = names;
      req.ignore = nullptr;
      return {};
    }
    if (flag_value(ins, "checksum"))
      return make_error(ErrorCode::invalid_argument, where(ins) + ": --checksum is only for URLs");
    std::string dir = m_tmp + "/extract-" + std::to_string(ins.line);
    if (!TRY(extract_local_archives(req, dir, where(ins) + ": ADD "))) return {};
    if (req.dest.back() != '/') req.dest += '/';
    return {};
  }

  Status prepare_copy(StageState& st, const Instruction& ins, std::string& canon,
                      std::function<Result<std::optional<oci::StoredLayer>>()>& make_layer) {
    Vars vars = st.vars();
    CopyRequest req;
    req.what = ins.keyword;
    std::vector<std::string> words;
    if (ins.json) {
      for (const auto& a : ins.json_args) words.push_back(TRY_CTX(expand_word(a, vars, m_bf.escape), where(ins)));
    } else {
      words = TRY_CTX(expand_words(ins.args, vars, m_bf.escape), where(ins));
    }
    // Heredoc sources (COPY <<EOF /dst) become files in the build's temp dir.
    std::string heredoc_root;
    if (!ins.heredocs.empty()) {
      heredoc_root = m_tmp + "/heredoc-" + std::to_string(ins.line);
      TRY(make_dirs(heredoc_root));
      for (const auto& h : ins.heredocs) {
        std::string content = h.expand ? TRY_CTX(expand_word(h.content, vars, m_bf.escape), where(ins)) : h.content;
        UniqueFd fd = TRY(open_fd(heredoc_root + "/" + h.name, O_WRONLY | O_CREAT | O_TRUNC, 0644));
        TRY(write_all(fd.get(), content));
        struct timespec epoch[2] = {{0, 0}, {0, 0}};  // the file is made here: its time must not vary by build
        ::futimens(fd.get(), epoch);
      }
      std::vector<std::string> rewritten;
      for (const auto& w : words) {
        if (w.rfind("<<", 0) == 0) {
          std::string name = w.substr(2);
          if (!name.empty() && name[0] == '-') name = name.substr(1);
          if (!name.empty() && (name[0] == '"' || name[0] == '\'')) name = name.substr(1, name.size() - 2);
          rewritten.push_back(name);
        } else {
          rewritten.push_back(w);
        }
      }
      words = rewritten;
    }
    if (words.size() < 2)
      return make_error(ErrorCode::invalid_argument,
                        where(ins) + ": " + ins.keyword + " needs at least one source and a destination");
    req.dest = absolute(st, words.back());
    words.pop_back();
    req.sources = words;
    for (const auto& f : ins.flags) {
      std::string name = f.substr(2, f.find('=') == std::string::npos ? std::string::npos : f.find('=') - 2);
      if (name != "from" && name != "chown" && name != "chmod" && name != "link" && name != "exclude" &&
          name != "parents" && name != "checksum" && name != "keep-git-dir")
        return make_error(ErrorCode::invalid_argument, where(ins) + ": unknown flag " + f + " for " + ins.keyword);
    }
    auto from = flag_value(ins, "from");
    std::string from_key;
    if (!heredoc_root.empty()) {
      req.src_root = heredoc_root;
    } else if (from) {
      std::string f = TRY_CTX(expand_word(*from, vars, m_bf.escape), where(ins));
      // An earlier stage's files are fixed by its cache key, an image's by its manifest digest: key on that,
      // and flatten the source only when the layer has to be made.
      if (auto idx = find_stage(m_stages, f, m_stages.size())) {
        from_key = "stage " + m_done.at(*idx).key;
      } else {
        auto img = m_images.resolve(f);
        if (!img)
          return std::move(img).error().context(where(ins) + ": --from=" + f +
                                                " is neither an earlier stage nor an image in the store");
        from_key = "image " + img->manifest_digest.str();
        m_lease.add(img->id().str());
      }
      from_key += " " + f;
    } else {
      req.src_root = m_opts.context_dir;
      req.ignore = &m_ignore;
    }
    if (ins.keyword == "ADD" && !from && heredoc_root.empty()) TRY(prepare_add_sources(req, ins));
    // An extracted archive keeps its own owners: docker 20.10's BuildKit does not apply --chown to them.
    if (auto c = flag_value(ins, "chown")) {
      TRY(resolve_chown(st, TRY(expand_word(*c, vars, m_bf.escape)), req.overrides, ins));
      if (req.keep_owners) {  // an extracted archive: only the directories made above it are chown's
        req.parent_uid = req.overrides.uid;
        req.parent_gid = req.overrides.gid;
        req.overrides.uid.reset();
        req.overrides.gid.reset();
      }
    }
    if (auto m = flag_value(ins, "chmod")) {
      std::string mode = TRY(expand_word(*m, vars, m_bf.escape));
      auto octal = parse_uint(mode, 07777, 8);
      if (!octal)
        return make_error(ErrorCode::invalid_argument,
                          where(ins) + ": --chmod=" + mode + " must be an octal mode such as 755");
      req.overrides.mode = static_cast<uint32_t>(*octal);
    }
    req.excludes = flag_values(ins, "exclude");
    auto v = std::make_shared<ImageView>(view(st));
    {
      // The destination as the image resolves it: through a symlinked directory, or a symlink (even dangling)
      // at the destination itself, the files land where the link points, and the link stays (BuildKit).
      bool slash = req.dest.back() == '/';
      std::string resolved = TRY_CTX(v->resolve(req.dest.substr(1), true), where(ins));
      req.dest = "/" + resolved + (slash && !resolved.empty() ? "/" : "");
    }
    auto dest_is_dir = [v](const std::string& p) {
      auto s = v->lookup(p);
      return s && *s && S_ISDIR((*s)->st_mode);
    };
    req.non_dir_at = [v](const std::string& p) {
      auto s = v->lookup(p);
      return s && *s && !S_ISDIR((*s)->st_mode);
    };
    auto write = [this, v](const CopyPlan& plan) -> Result<std::optional<oci::StoredLayer>> {
      return write_layer([&](oci::TarStream& tar) {
        return write_plan(plan, tar, [&](const std::string& p) {
          return parent_meta(*v, p, plan.parent_uid, plan.parent_gid);
        });
      });
    };
    std::string opts_text = std::string("uid=") + (req.overrides.uid ? std::to_string(*req.overrides.uid) : "-") +
                            " gid=" + (req.overrides.gid ? std::to_string(*req.overrides.gid) : "-") +
                            " mode=" + (req.overrides.mode ? std::to_string(*req.overrides.mode) : "-") +
                            " parents=" + (req.parent_uid ? std::to_string(*req.parent_uid) : "-") + ":" +
                            (req.parent_gid ? std::to_string(*req.parent_gid) : "-");
    for (const auto& e : req.excludes) opts_text += " exclude=" + e;
    if (!from_key.empty()) {
      canon = ins.keyword + " " + req.dest + " from " + from_key + " " + opts_text;
      for (const auto& src : req.sources) canon += " " + src;
      const Stage* stage = &m_stages[m_current];
      std::string f = TRY(expand_word(*from, vars, m_bf.escape));
      make_layer = [this, req, stage, f, ins, dest_is_dir, write]() mutable -> Result<std::optional<oci::StoredLayer>> {
        req.src_root = TRY(source_root(f, *stage, ins));
        req.keep_owners = true;
        auto plan = plan_copy(req, dest_is_dir);
        if (!plan) return std::move(plan).error().context(where(ins));
        return write(*plan);
      };
      return {};
    }
    auto plan = plan_copy(req, dest_is_dir);
    if (!plan) return std::move(plan).error().context(where(ins));
    auto digest = TRY_CTX(hash_plan(*plan, m_stat, m_opts.timestamp), where(ins));
    canon = ins.keyword + " " + req.dest + " " + digest.str();
    auto shared_plan = std::make_shared<CopyPlan>(std::move(*plan));
    make_layer = [shared_plan, write]() { return write(*shared_plan); };
    return {};
  }

  cas::Store& m_store;
  oci::ImageStore m_images;
  BuildCache m_cache;
  StatCache m_stat;
  const BuildOptions& m_opts;
  std::ostream& m_out;
  Buildfile m_bf;
  IgnoreRules m_ignore;
  BuildLease m_lease;
  std::vector<Stage> m_stages;
  Vars m_global_args;
  std::map<size_t, StageState> m_done;
  std::map<std::string, std::string> m_flat;
  std::string m_tmp;
  size_t m_step = 0, m_total = 0, m_cached = 0, m_current = 0;
  bool m_announced = false;  ///< a step's line is on the terminal without its end
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
