// RUN helpers: mount flags and argv.
#include "builder/run_step.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "common/number.h"

namespace kiln::builder {

Result<RunMount> parse_run_mount(const std::string& spec, const std::string& where, size_t ssh_index) {
  RunMount m;
  std::stringstream in(spec);
  std::string kv;
  bool rw = false;
  while (std::getline(in, kv, ',')) {
    auto eq = kv.find('=');
    std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : kv.substr(eq + 1);
    if (k == "type")
      m.type = v;
    else if (k == "target" || k == "dst" || k == "destination")
      m.target = v;
    else if (k == "source" || k == "src")
      m.source = v;
    else if (k == "from")
      m.from = v;
    else if (k == "id")
      m.id = v;
    else if (k == "ro" || k == "readonly")
      rw = !(v.empty() || v == "true");
    else if (k == "rw" || k == "readwrite")
      rw = v.empty() || v == "true";
    else if (k == "sharing")
      m.sharing = v;
    else if (k == "mode") {
      if (!parse_uint(v, 07777) || v.find_first_not_of("01234567") != std::string::npos)
        return make_error(ErrorCode::invalid_argument, where + ": RUN --mount: mode=" + v + " is not an octal mode");
      m.mode = v;
    } else if (k == "uid" || k == "gid") {
      auto id = parse_uint(v, kMaxId);
      if (!id)
        return make_error(ErrorCode::invalid_argument, where + ": RUN --mount: " + k + "=" + v + " is not a numeric id");
      (k == "uid" ? m.uid : m.gid) = static_cast<uint32_t>(*id);
    }
    else if (k == "required")
      m.required = v.empty() || v == "true";
    else if (k == "size")
      continue;
    else if (k == "env")
      m.env = v;
    else
      return make_error(ErrorCode::invalid_argument, where + ": RUN --mount: unknown option " + k);
  }
  if (m.type != "bind" && m.type != "cache" && m.type != "tmpfs" && m.type != "secret" && m.type != "ssh")
    return make_error(ErrorCode::invalid_argument,
                      where + ": RUN --mount: type must be bind, cache, tmpfs, secret or ssh, not " + m.type);
  if (m.type == "ssh") {
    if (!m.source.empty())
      return make_error(ErrorCode::invalid_argument, where + ": RUN --mount=type=ssh takes no source");
    if (m.id.empty()) m.id = "default";
    if (m.target.empty()) m.target = "/run/buildkit/ssh_agent." + std::to_string(ssh_index);
  }
  if (m.env && m.type != "secret")
    return make_error(ErrorCode::invalid_argument, where + ": RUN --mount: env= is for type=secret only");
  if (m.type == "secret") {
    // BuildKit's rules: source names the secret over id; else the target's last name; a file at the target or
    // /run/secrets/ID unless the secret goes to an environment variable alone.
    if (!m.source.empty()) m.id = m.source;
    if (m.id.empty()) m.id = m.target.empty() ? "" : m.target.substr(m.target.rfind('/') + 1);
    if (m.id.empty()) return make_error(ErrorCode::invalid_argument, where + ": RUN --mount=type=secret needs an id");
    if (m.env && m.env->empty())
      return make_error(ErrorCode::invalid_argument, where + ": RUN --mount=type=secret: env= needs a variable name");
    if (m.target.empty() && !m.env) m.target = "/run/secrets/" + m.id.substr(m.id.rfind('/') + 1);
  }
  if (m.target.empty() && !m.env)
    return make_error(ErrorCode::invalid_argument, where + ": RUN --mount needs a target");
  if (m.type == "cache" && m.id.empty()) m.id = m.target;
  if (m.sharing != "shared" && m.sharing != "private" && m.sharing != "locked")
    return make_error(ErrorCode::invalid_argument, where + ": RUN --mount: sharing must be shared, private or locked");
  m.readonly = m.type == "bind" ? !rw : m.type == "secret" || m.type == "ssh";
  return m;
}

std::string script_in_container(const std::string& heredoc_name) {
  bool one_component = !heredoc_name.empty() && heredoc_name != "." && heredoc_name != ".." &&
                       heredoc_name.find_first_of("/\0", 0, 2) == std::string::npos;
  return "/dev/pipes/" + (one_component ? heredoc_name : std::string("script"));
}

std::vector<std::string> run_argv(const Instruction& ins, const std::vector<std::string>& shell, std::string& script) {
  script.clear();
  if (ins.json) return ins.json_args;
  std::vector<std::string> argv = shell;
  std::string args = ins.args;
  size_t a = args.find_first_not_of(" \t");
  args = a == std::string::npos ? "" : args.substr(a);
  if (ins.heredocs.size() == 1 && is_lone_heredoc(args)) {
    // RUN <<EOF: the heredoc is the shell's script; with a shebang, a file the shell runs (so the shebang picks
    // the interpreter).
    const Heredoc& h = ins.heredocs[0];
    if (h.content.rfind("#!", 0) == 0) {
      script = h.content;
      argv.push_back(script_in_container(h.name));
    } else {
      argv.push_back(h.content);
    }
    return argv;
  }
  // RUN cmd <<EOF: the shell reads the heredoc itself.
  std::string text = args;
  for (const auto& h : ins.heredocs) text += "\n" + h.content + h.name;
  argv.push_back(text);
  return argv;
}

namespace {

/// Gives the directory at path the owner, mode and times of the image's directory st.
void take_attributes(const std::string& path, const struct stat& st) {
  (void)!::lchown(path.c_str(), st.st_uid, st.st_gid);
  ::chmod(path.c_str(), st.st_mode & 07777);
  struct timespec t[2] = {st.st_atim, st.st_mtim};
  ::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW);
}

}  // namespace

Status fix_copied_up_dirs(const std::string& upper, ImageView& v, const runtime::ContainerSpec& spec) {
  std::vector<std::string> dirs = {"etc", "tmp", "proc", "sys", "dev"};
  for (const auto& m : spec.mounts) {
    std::string t = m.target.substr(1);
    for (size_t pos = t.find('/'); pos != std::string::npos; pos = t.find('/', pos + 1))
      dirs.push_back(t.substr(0, pos));
  }
  for (const auto& d : dirs) {
    struct stat up;
    std::string p = upper + "/" + d;
    if (::lstat(p.c_str(), &up) < 0 || !S_ISDIR(up.st_mode)) continue;
    auto img = TRY(v.lookup(d));
    if (!img || !S_ISDIR(img->st_mode)) continue;
    take_attributes(p, *img);
  }
  return {};
}

Status leave_mountpoints(const std::string& upper, ImageView& v, const runtime::ContainerSpec& spec,
                         const std::string& own_mount) {
  std::vector<std::string> dirs = {"dev", "proc", "sys", "etc"};
  for (const auto& m : spec.mounts) {
    if (m.target == own_mount) continue;  // kiln's own, not the Buildfile's
    struct stat st;
    bool dir = m.type == runtime::MountSpec::Type::tmpfs || (::stat(m.source.c_str(), &st) == 0 && S_ISDIR(st.st_mode));
    std::string t = m.target.substr(1);
    dirs.push_back(dir ? t : t.substr(0, t.rfind('/') == std::string::npos ? 0 : t.rfind('/')));
  }
  for (const auto& d : dirs) {
    std::string at;
    // The image's directories on the way, not in the upper: made there (with the image's attributes) only when a
    // missing mountpoint goes below them, as /root for /root/.cache/pip.
    std::vector<std::pair<std::string, struct stat>> above;
    for (size_t i = 0; i <= d.size(); ++i) {
      if (i < d.size() && d[i] != '/') continue;
      at = d.substr(0, i);
      if (at.empty()) continue;
      struct stat up;
      if (::lstat((upper + "/" + at).c_str(), &up) == 0) {  // made, changed or deleted by the step
        above.clear();
        continue;
      }
      if (auto img = TRY(v.lookup(at))) {   // the image has it
        if (!S_ISDIR(img->st_mode)) break;  // a file or a link there: no mountpoint of the image's to leave below
        above.emplace_back(at, *img);
        continue;
      }
      for (const auto& [p, st] : above) {
        std::string path = upper + "/" + p;
        if (::mkdir(path.c_str(), 0755) < 0) return sys_error("make the directory /" + p + " of a mountpoint");
        take_attributes(path, st);
      }
      above.clear();
      if (::mkdir((upper + "/" + at).c_str(), 0755) < 0) return sys_error("make the mountpoint /" + at);
      ::chmod((upper + "/" + at).c_str(), 0755);
    }
  }
  return {};
}

}  // namespace kiln::builder
