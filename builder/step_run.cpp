// RUN: the command in a container over the stage's layers with a fresh upperdir, whose changes become the
// step's layer; its --mount values (cache, bind, tmpfs, secret, ssh) and --network.
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <sstream>

#include <nlohmann/json.hpp>

#include "builder/copy.h"
#include "builder/history.h"
#include "builder/run_step.h"
#include "builder/step_output.h"
#include "builder/steps.h"
#include "cas/layer_trees.h"
#include "cas/lock.h"
#include "common/fd.h"
#include "common/json.h"
#include "common/number.h"
#include "oci/layer_stream.h"
#include "runtime/container.h"
#include "runtime/options.h"
#include "runtime/process_config.h"
#include "runtime/seccomp_cache.h"

namespace kiln::builder {

namespace {

std::string json_array(const std::vector<std::string>& v) { return json_text(nlohmann::json(v)); }

/// A cache mount's directory: persistent per id across builds, in the store (dropped by `kiln gc --cache`).
/// uid, gid and mode are part of its identity: a cache made for another owner is another cache.
Result<std::string> cache_dir(BuildContext& b, const RunMount& m, std::string& identity) {
  identity = m.id + " uid:gid:mode=" + std::to_string(m.uid.value_or(0)) + ':' + std::to_string(m.gid.value_or(0)) +
             ':' + (m.mode.empty() ? "0755" : m.mode);
  std::string dir = b.store.private_dir() + "/cache/mounts/" + cas::sha256_of(identity).hex().substr(0, 32);
  if (!path_exists(dir)) {
    TRY(make_dirs(dir, 0755));
    if (!m.mode.empty()) ::chmod(dir.c_str(), static_cast<mode_t>(parse_uint(m.mode, 07777, 8).value_or(0755)));
    if (m.uid || m.gid) (void)!::chown(dir.c_str(), m.uid.value_or(0), m.gid.value_or(0));
  }
  return dir;
}

/// A bind mount's source: from the context (default) or another stage/image; read-only, or rw with the
/// writes discarded.
Status bind_source(BuildContext& b, const Instruction& ins, const RunMount& m, runtime::MountSpec& ms,
                   std::string& mount_key) {
  std::string root;
  if (!m.from.empty()) {
    root = TRY(b.source_root(m.from, ins));
    auto idx = find_stage(b.stages, m.from, b.stages.size());
    mount_key += " from " + (idx ? TRY(b.built_stage(*idx, m.from, ins))->key : m.from);
  } else {
    root = b.opts.context_dir;
  }
  std::string src = m.source.empty() ? "." : m.source;
  CopyRequest req;
  req.src_root = root;
  req.ignore = m.from.empty() ? &b.ignore : nullptr;
  req.sources = {src};
  req.dest = "/";
  req.what = "RUN --mount";
  auto plan = plan_copy(req, {});
  if (!plan) return std::move(plan).error().context(b.where(ins));
  if (m.from.empty()) mount_key += " " + TRY(hash_plan(*plan, b.stat, std::nullopt)).str();
  char real[PATH_MAX];
  if (!::realpath((root + "/" + src).c_str(), real)) return sys_error(b.where(ins) + ": RUN --mount source " + src);
  ms.source = real;
  ms.readonly = m.readonly;
  if (!m.readonly) {
    struct stat sst;
    if (::stat(real, &sst) < 0 || !S_ISDIR(sst.st_mode))
      return make_error(ErrorCode::unsupported,
                        b.where(ins) + ": RUN --mount=type=bind,rw needs a directory source, not " + src);
    ms.discard_writes = true;  // as BuildKit: writable, and the writes are thrown away
  }
  return {};
}

/// The host file of the secret a mount names (kiln build --secret), or nothing when it was not given and is not
/// required.
Result<std::optional<std::string>> secret_file(BuildContext& b, const Instruction& ins, const RunMount& m) {
  auto it = b.opts.secrets.find(m.id);
  if (it != b.opts.secrets.end()) return std::optional<std::string>{it->second};
  if (!m.required) return std::optional<std::string>{};
  return make_error(ErrorCode::not_found, b.where(ins) + ": secret " + m.id +
                                              " was not given (kiln build --secret id=" + m.id + ",src=FILE)");
}

/// One RUN --mount as the runtime takes it, its part of the step's cache key, and the lock it needs;
/// nothing for a secret that was not given and is not required.
Result<std::optional<runtime::MountSpec>> run_mount(BuildContext& b, const Instruction& ins, const RunMount& m,
                                                    std::string& mount_key, std::vector<std::string>& locks) {
  runtime::MountSpec ms;
  ms.target = m.target;
  mount_key += "mount " + m.type + " " + m.target + " ro=" + (m.readonly ? "1" : "0");
  if (m.type == "tmpfs") {
    ms.type = runtime::MountSpec::Type::tmpfs;
  } else if (m.type == "secret") {
    auto file = TRY(secret_file(b, ins, m));
    if (!file) return std::optional<runtime::MountSpec>{};
    ms.source = *file;
    ms.readonly = true;
    mount_key += " secret " + m.id;  // the id, never the content
  } else if (m.type == "ssh") {
    auto it = b.opts.ssh_agents.find(m.id);
    if (it == b.opts.ssh_agents.end()) {
      if (m.required)
        return make_error(ErrorCode::not_found,
                          b.where(ins) + ": ssh agent " + m.id + " was not given (kiln build --ssh " +
                              (m.id == "default" ? std::string("default") : m.id + "=SOCKET") + ")");
      return std::optional<runtime::MountSpec>{};
    }
    ms.source = it->second;  // the agent's socket itself: connecting to it is not a write the read-only bind stops
    ms.readonly = true;
    mount_key += " ssh " + m.id;
  } else if (m.type == "cache") {
    std::string identity;
    ms.source = TRY(cache_dir(b, m, identity));
    if (m.sharing == "locked") locks.push_back(ms.source + ".lock");
    ms.readonly = false;
    mount_key += " cache " + identity;
  } else {
    TRY(bind_source(b, ins, m, ms, mount_key));
  }
  mount_key += "\n";
  return std::optional<runtime::MountSpec>{std::move(ms)};
}

/// RUN --mount=type=secret,env=NAME: the secret's file for NAME, or nothing for a secret that was not given and
/// is not required. The key names the variable and the id, never the text.
Status secret_env(BuildContext& b, const Instruction& ins, const RunMount& m, std::string& mount_key,
                  std::vector<std::pair<std::string, std::string>>& out) {
  auto file = TRY(secret_file(b, ins, m));
  if (!file) return {};
  out.emplace_back(*m.env, *file);
  mount_key += "secret-env " + *m.env + " " + m.id + "\n";
  return {};
}

/// What make_layer needs of the planned step.
struct RunPlan {
  std::vector<std::string> argv, env;
  std::string user, cwd, network, step_name;
  std::vector<runtime::MountSpec> mounts;
  std::vector<std::string> locks;
  std::string script_target;  ///< where the heredoc script is bound (kiln's own mount), or ""
  /// RUN --mount=type=secret,env=NAME: NAME and the host file whose text it gets, read when the step runs and
  /// kept out of the cache key and the history.
  std::vector<std::pair<std::string, std::string>> secret_env;
};

/// Run the planned container and turn its upperdir into the layer (an empty one if it changed nothing).
Result<std::optional<oci::StoredLayer>> run_and_diff(BuildContext& b, const StageState& st, const Instruction& ins,
                                                     const RunPlan& r) {
  std::vector<cas::FileLock> held;
  for (const auto& l : r.locks) held.push_back(TRY(cas::FileLock::acquire(l, cas::FileLock::Mode::exclusive)));
  auto v = b.view(st);
  runtime::ContainerSpec spec;
  spec.id =
      cas::sha256_of(b.tmp + std::to_string(ins.line) + std::to_string(::getpid()) + std::to_string(::time(nullptr)))
          .hex();
  spec.name = "kiln-build-" + spec.id.substr(0, 12);
  spec.seccomp_cache = runtime::seccomp_cache_dir(b.store.root());
  spec.image = "build " + b.where(ins);
  spec.layers = TRY(v.roots());
  std::string upper = b.tmp + "/upper-" + std::to_string(ins.line);
  TRY(make_dirs(upper, 0755));
  TRY(make_dirs(upper + ".work", 0700));
  spec.upperdir = upper;
  spec.args = r.argv;
  spec.env = r.env;
  for (const auto& [name, file] : r.secret_env) {
    auto text = read_file(file, 1u << 20);
    if (!text) return make_error(ErrorCode::io, b.where(ins) + ": secret for $" + name + ": " + text.error().what());
    runtime::set_env(spec.env, name, *text);
  }
  spec.cwd = r.cwd;
  spec.user = r.user;
  spec.hostname = "buildkitsandbox";  // what a RUN sees as its hostname under BuildKit
  spec.no_new_privileges = false;     // as BuildKit's RUN: a setuid program (sudo, su) works for a USER
  spec.network = r.network == "none" ? runtime::Network::none : runtime::Network::host;
  spec.mounts = r.mounts;
  spec.kill_on_interrupt = true;  // Ctrl-C cancels the step (and the build), it is not the command's to ignore
  runtime::RunOutcome out;
  std::string tail;
  {
    std::string prefix = "[" + std::to_string(b.step) + "/" + std::to_string(b.total) + "] | ";
    StepOutput so(b.out, prefix, b.opts.quiet, b.tmp + "/tail-" + std::to_string(ins.line), b.display_fd, b.step);
    out = runtime::run_container(spec);
    so.finish();
    tail = so.tail();
  }
  if (out.failed_to_start) return std::move(out.error).context(b.where(ins) + ": " + r.step_name);
  if (out.cancelled_by != 0)
    return make_error(ErrorCode::cancelled, "build cancelled (SIG" + std::string(sigabbrev_np(out.cancelled_by)) +
                                                ") in " + r.step_name + " at " + b.where(ins) + "; nothing was tagged");
  if (out.exit_code != 0)
    return make_error(ErrorCode::generic, b.where(ins) + ": " + r.step_name + " " + ins.args.substr(0, 60) +
                                              (ins.args.size() > 60 ? "…" : "") + ": exit status " +
                                              std::to_string(out.exit_code) +
                                              (tail.empty() ? "" : "; last output:\n" + tail));
  TRY(fix_copied_up_dirs(upper, v, spec));
  TRY(leave_mountpoints(upper, v, spec, r.script_target));
  auto entries = TRY(cas::LayerTrees::measure(upper));
  std::optional<oci::StoredLayer> layer;
  if (entries.entries > 0) {
    auto stream = TRY(oci::LayerStream::create(b.store, b.opts.compression));
    oci::TarOptions topts;
    topts.clamp_mtime = b.opts.timestamp;
    topts.overlay_upper = true;
    oci::LayerStream* ls = stream.get();
    TRY(oci::write_tar(upper, topts, [ls](const void* d, size_t n) { return ls->write(d, n); }));
    layer = TRY(stream->commit());
  } else {
    layer = TRY(b.empty_layer());
  }
  (void)remove_tree(upper);
  (void)remove_tree(upper + ".work");
  return layer;
}

/// A --mount's options with each value expanded but from= (BuildKit expands none there: the stage plan reads
/// it as written).
Result<std::string> expand_mount_spec(const std::string& spec, const Vars& vars, const BuildContext& b,
                                      const Instruction& ins) {
  std::string out, kv;
  std::stringstream in(spec);
  while (std::getline(in, kv, ',')) {
    if (!out.empty()) out += ',';
    if (kv.compare(0, 5, "from=") == 0)
      out += kv;
    else
      out += TRY_CTX(expand_word(kv, vars, b.bf.escape), b.where(ins));
  }
  return out;
}

/// The proxy variables --build-arg gives every RUN, declared by an ARG or not, as BuildKit does: HTTP_PROXY,
/// HTTPS_PROXY, FTP_PROXY, NO_PROXY and ALL_PROXY, named in any case, each set in both spellings.
void add_proxy_env(std::vector<std::string>& env, const std::map<std::string, std::string>& build_args) {
  auto cased = [](std::string s, int (*to)(int)) {
    for (auto& c : s) c = static_cast<char>(to(static_cast<unsigned char>(c)));
    return s;
  };
  for (const char* name : {"http_proxy", "https_proxy", "ftp_proxy", "no_proxy", "all_proxy"})
    for (const auto& [k, v] : build_args)
      if (cased(k, ::tolower) == name) {
        runtime::set_env(env, cased(name, ::toupper), v);
        runtime::set_env(env, name, v);
      }
}

}  // namespace

Result<PreparedStep> prepare_run(BuildContext& b, StageState& st, const Instruction& ins, const RunCmd& cmd) {
  RunPlan r;
  r.step_name = "step " + std::to_string(b.step) + "/" + std::to_string(b.total) + " RUN";
  r.network = !cmd.network || *cmd.network == "default" ? b.opts.network : *cmd.network;
  std::string script;
  r.argv = run_argv(ins, stage_shell(st), script);
  // ARG values are in the environment of RUN (ENV wins), but not in the image.
  r.env = st.config.config.env;
  for (const auto& [k, v] : st.args)
    if (!runtime::get_env(r.env, k) || st.args_over_env.count(k)) runtime::set_env(r.env, k, v);
  if (!runtime::get_env(r.env, "PATH")) runtime::set_env(r.env, "PATH", runtime::kDefaultPath);
  std::string mount_key;
  size_t ssh_mounts = 0;
  for (const auto& mv : cmd.mounts) {
    RunMount m = TRY(parse_run_mount(TRY(expand_mount_spec(mv, st.vars(), b, ins)), b.where(ins), ssh_mounts));
    if (m.env) TRY(secret_env(b, ins, m, mount_key, r.secret_env));
    if (m.target.empty()) continue;  // a secret for an environment variable alone
    if (!m.target.empty() && m.target[0] != '/') m.target = BuildContext::absolute(st, m.target);
    TRY_CTX(runtime::check_target(m.target), b.where(ins) + ": RUN --mount");
    // BuildKit points SSH_AUTH_SOCK at the first ssh mount, given or not, unless the stage sets it.
    if (m.type == "ssh" && ssh_mounts++ == 0 && !runtime::get_env(r.env, "SSH_AUTH_SOCK"))
      runtime::set_env(r.env, "SSH_AUTH_SOCK", m.target);
    if (auto ms = TRY(run_mount(b, ins, m, mount_key, r.locks))) r.mounts.push_back(std::move(*ms));
  }
  if (!script.empty()) {
    r.script_target = r.argv.back();
    std::string host_script = b.tmp + "/script-" + std::to_string(ins.line);
    UniqueFd fd = TRY(open_fd(host_script, O_WRONLY | O_CREAT | O_TRUNC, 0755));
    TRY(write_all(fd.get(), script));
    ::fchmod(fd.get(), 0755);
    runtime::MountSpec script_mount;
    script_mount.source = host_script;
    script_mount.target = r.script_target;
    script_mount.readonly = true;
    r.mounts.push_back(script_mount);
    mount_key += "script " + cas::sha256_of(script).str() + "\n";
  }
  r.user = st.config.config.user;
  r.cwd = st.config.config.working_dir.empty() ? "/" : st.config.config.working_dir;
  PreparedStep p;
  // The history shows the command as the shell gets it (as BuildKit's: a script file by its path).
  p.created_by = run_history(r.argv, st.declared_args, r.env);
  p.canon = "RUN " + json_array(r.argv) + "\nenv " + json_array(r.env) + "\nuser " + r.user + "\ncwd " + r.cwd +
            "\nnetwork " + r.network + "\n" + mount_key;
  // After the cache key and the history, as BuildKit keeps the proxies out of both.
  add_proxy_env(r.env, b.opts.build_args);
  p.make_layer = [&b, st, ins, r]() { return run_and_diff(b, st, ins, r); };
  return p;
}

}  // namespace kiln::builder
