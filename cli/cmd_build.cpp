// kiln build: a Buildfile and its context into an image in the store.
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>

#include "builder/executor.h"
#include "cli/command.h"
#include "cli/stdin_context.h"

namespace kiln::cli {

namespace {

struct BuildFlags {
  std::string context = ".";
  std::string file, target, iidfile, compression = "gzip", timestamp, network = "host", pull = "missing";
  int jobs = 0;
  std::vector<std::string> tags, build_args, labels, secrets, ssh;
  std::string progress;  ///< auto, plain, tty, quiet; "" for $BUILDKIT_PROGRESS, else auto
  bool no_cache = false, quiet = false;
};

/// --ssh ID[=SOCKET]: the ssh agent RUN --mount=type=ssh,id=ID reaches; without a socket, $SSH_AUTH_SOCK's.
Status add_ssh_agent(const std::string& arg, std::map<std::string, std::string>& agents) {
  auto eq = arg.find('=');
  std::string id = arg.substr(0, eq);
  std::string sock = eq == std::string::npos ? "" : arg.substr(eq + 1);
  if (id.empty()) return make_error(ErrorCode::invalid_argument, "invalid --ssh \"" + arg + "\": use ID[=SOCKET]");
  if (eq == std::string::npos) {
    const char* env = ::getenv("SSH_AUTH_SOCK");
    if (!env || !*env)
      return make_error(ErrorCode::invalid_argument,
                        "--ssh " + id + ": SSH_AUTH_SOCK is not set; start an agent or give --ssh " + id + "=SOCKET");
    sock = env;
  }
  char real[PATH_MAX];
  struct stat st;
  if (!::realpath(sock.c_str(), real) || ::stat(real, &st) < 0) return sys_error("--ssh " + id + ": " + sock);
  if (!S_ISSOCK(st.st_mode))
    return make_error(ErrorCode::unsupported, "--ssh " + id + ": " + sock +
                                                  " is not an agent's socket (kiln forwards an ssh agent; key files "
                                                  "are not supported yet: ssh-add them to an agent)");
  agents[id] = real;
  return {};
}

Result<std::pair<std::string, std::string>> key_value(const std::string& kv, const char* flag) {
  auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) {
    if (std::string(flag) == "--build-arg" && eq == std::string::npos) {
      // docker: --build-arg NAME takes the value from the environment
      const char* v = ::getenv(kv.c_str());
      if (v) return std::make_pair(kv, std::string(v));
    }
    return make_error(ErrorCode::invalid_argument, std::string("invalid ") + flag + " \"" + kv + "\": use KEY=VALUE");
  }
  return std::make_pair(kv.substr(0, eq), kv.substr(eq + 1));
}

Status build_cmd(Context& ctx, const BuildFlags& f) {
  builder::BuildOptions o;
  std::optional<StdinContext> from_stdin;
  if (f.context == "-") {  // as docker: a tarball of the context, or a Buildfile with no context
    if (f.file == "-") return make_error(ErrorCode::invalid_argument, "kiln build -: -f - cannot read stdin as well");
    from_stdin.emplace(TRY(StdinContext::read(TRY(ctx.store()))));
    o.context_dir = from_stdin->dir();
    if (from_stdin->buildfile_text()) {
      if (!f.file.empty())
        return make_error(
            ErrorCode::invalid_argument,
            "kiln build -: stdin holds a Buildfile, not a context tarball, so -f " + f.file + " names nothing");
      o.buildfile_text = *from_stdin->buildfile_text();
    } else {  // docker: -f names a file of the tarball
      auto found = builder::find_buildfile(o.context_dir, f.file.empty() ? "" : o.context_dir + "/" + f.file);
      if (!found)
        return make_error(ErrorCode::not_found,
                          "kiln build -: the context tarball on stdin has " +
                              (f.file.empty() ? "no Buildfile, Containerfile or Dockerfile" : "no " + f.file) +
                              " (use -f PATH in the tarball)");
      o.buildfile = *found;
    }
  } else {
    char real[PATH_MAX];
    if (!::realpath(f.context.c_str(), real)) return sys_error("build context " + f.context);
    o.context_dir = real;
    if (f.file == "-")  // as docker: the Buildfile from stdin, the context from the directory
      o.buildfile_text = TRY_CTX(read_fd(0, 4u << 20), "read the Buildfile from stdin (-f -)");
    else
      o.buildfile = f.file;
  }
  o.tags = f.tags;
  o.target = f.target;
  o.no_cache = f.no_cache;
  // --progress, else $BUILDKIT_PROGRESS (docker's), else auto: the live display on a terminal, lines elsewhere.
  auto known = [](const std::string& p) { return p == "auto" || p == "plain" || p == "tty" || p == "quiet"; };
  std::string progress = f.progress;
  if (!progress.empty() && !known(progress))
    return make_error(ErrorCode::invalid_argument,
                      "unknown --progress \"" + progress + "\": use auto, plain, tty or quiet");
  if (const char* env = ::getenv("BUILDKIT_PROGRESS"); progress.empty() && env && known(env))
    progress = env;  // a value only docker has (rawjson) is left to docker
  if (progress.empty()) progress = "auto";
  bool terminal = ::isatty(2) != 0;  // progress goes to stderr
  if (progress == "tty" && !terminal)
    return make_error(ErrorCode::invalid_argument, "--progress tty: stderr is not a terminal (use plain)");
  o.quiet = f.quiet || progress == "quiet";
  if (progress == "tty" || (progress == "auto" && terminal)) o.display_fd = 2;
  for (const auto& a : f.build_args) {
    auto kv = TRY(key_value(a, "--build-arg"));
    o.build_args[kv.first] = kv.second;
  }
  for (const auto& l : f.labels) {
    auto kv = TRY(key_value(l, "--label"));
    o.labels[kv.first] = kv.second;
  }
  if (f.network != "host" && f.network != "none")
    return make_error(ErrorCode::invalid_argument,
                      "unsupported --network \"" + f.network + "\": use host (default) or none");
  o.network = f.network;
  o.pull = f.pull;
  o.jobs = f.jobs;
  for (const auto& sec : f.secrets) {
    std::string id, src;
    size_t pos = 0;
    while (pos <= sec.size()) {
      size_t comma = sec.find(',', pos);
      std::string kv = sec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      auto eq = kv.find('=');
      std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : kv.substr(eq + 1);
      if (k == "id")
        id = v;
      else if (k == "src" || k == "source")
        src = v;
      else if (k == "type" && v == "file") {
      } else
        return make_error(ErrorCode::invalid_argument, "invalid --secret \"" + sec + "\": use id=ID,src=FILE");
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
    if (id.empty() || src.empty())
      return make_error(ErrorCode::invalid_argument, "invalid --secret \"" + sec + "\": use id=ID,src=FILE");
    char real[PATH_MAX];
    if (!::realpath(src.c_str(), real)) return sys_error("--secret " + id + ": " + src);
    o.secrets[id] = real;
  }
  for (const auto& a : f.ssh) TRY(add_ssh_agent(a, o.ssh_agents));
  if (!oci::media::parse_compression(f.compression, o.compression))
    return make_error(ErrorCode::invalid_argument,
                      "unknown --compression \"" + f.compression + "\": use gzip, zstd or none");
  o.timestamp = TRY(source_date_epoch(f.timestamp));
  auto store = TRY(ctx.store());
  auto r = TRY(builder::build(store, o, std::cerr));
  if (!f.iidfile.empty()) {
    UniqueFd fd = TRY(open_fd(f.iidfile, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    TRY(write_all(fd.get(), r.image_id));
  }
  if (!o.quiet)
    std::cerr << "built " << r.image_id.substr(7, 12) << " in " << r.steps << " steps (" << r.cached << " cached)"
              << (f.tags.empty() ? "" : ", tagged " + f.tags.front()) << "\n";
  std::cout << r.image_id << "\n";
  return {};
}

}  // namespace

void register_build_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<BuildFlags>();
  auto* b = app.add_subcommand("build", "Build an image from a Buildfile (Dockerfile syntax)");
  b->add_option("CONTEXT", f->context,
                "build context directory (default .); - reads a context tarball (plain, gzip, zstd) or a Buildfile "
                "alone from stdin");
  b->add_option("-t,--tag", f->tags, "name the image (repeatable)")->allow_extra_args(false);
  b->add_option("-f,--file", f->file,
                "Buildfile, - for stdin (default: Buildfile, Containerfile or Dockerfile in the context)");
  b->add_option("--build-arg", f->build_args, "set a build-time variable KEY=VALUE")->allow_extra_args(false);
  b->add_option("--target", f->target, "build up to this stage");
  b->add_option("--label", f->labels, "add a label KEY=VALUE")->allow_extra_args(false);
  b->add_flag("--no-cache", f->no_cache, "run every step, ignoring the cache");
  b->add_option("--iidfile", f->iidfile, "write the image ID to this file");
  b->add_flag("-q,--quiet", f->quiet, "print only the image ID");
  b->add_option("--progress", f->progress,
                "auto (default: tty on a terminal, else plain), plain (a line per step), tty (a live display), "
                "quiet (as -q); default $BUILDKIT_PROGRESS");
  b->add_option("--timestamp", f->timestamp,
                "creation time and mtime clamp, in seconds since the epoch (also SOURCE_DATE_EPOCH)");
  b->add_option("--compression", f->compression, "layer compression: gzip (default), zstd or none");
  b->add_option("--network", f->network, "network of RUN steps: host (default) or none");
  b->add_option("--jobs", f->jobs, "stages built at once where none needs another (default: the CPUs; 1: in order)")
      ->check(CLI::PositiveNumber);
  b->add_option("--pull", f->pull, "pull FROM images: missing (default), always, never");
  b->add_option("--secret", f->secrets, "id=ID,src=FILE: a file RUN --mount=type=secret can read")
      ->allow_extra_args(false);
  b->add_option("--ssh", f->ssh, "ID[=SOCKET]: an ssh agent RUN --mount=type=ssh can use (default: $SSH_AUTH_SOCK)")
      ->allow_extra_args(false);
  b->callback([&ctx, f] { ctx.action = [&ctx, f] { return build_cmd(ctx, *f); }; });
}

}  // namespace kiln::cli
