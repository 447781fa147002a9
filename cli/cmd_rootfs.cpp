// kiln unpack (flattened root filesystem into a directory, or an OCI runtime bundle), kiln export (as one tarball).
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/command.h"
#include "oci/tar_writer.h"
#include "runtime/image_bundle.h"

namespace kiln::cli {

namespace {

/// The flattened root in dir, or with bundle an OCI runtime bundle: dir/rootfs and dir/config.json.
Status unpack_into(oci::ImageStore& images, const oci::Image& img, const std::string& dir, bool bundle) {
  if (!bundle) return images.flatten(img, dir);
  std::string rootfs = dir + "/rootfs";
  if (::mkdir(rootfs.c_str(), 0755) < 0) return sys_error("mkdir " + rootfs);
  TRY(images.flatten(img, rootfs));
  std::string config = TRY(runtime::image_bundle_config_for(img.config, rootfs));
  UniqueFd fd = TRY(open_fd(dir + "/config.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  return write_all(fd.get(), config);
}

Status unpack_cmd(Context& ctx, const std::string& name, const std::string& dir, bool bundle) {
  auto store = TRY(ctx.store());
  oci::ImageStore images(store);
  auto img = TRY(images.resolve(name));
  if (::mkdir(dir.c_str(), 0755) < 0) {
    if (errno == EEXIST)
      return make_error(ErrorCode::conflict, dir + " already exists: kiln unpack needs a new directory");
    return sys_error("mkdir " + dir);
  }
  auto st = unpack_into(images, img, dir, bundle);
  if (!st) {
    (void)remove_tree(dir);  // nothing half-extracted is left behind
    return std::move(st).error().context("unpacking " + name);
  }
  return {};
}

Status export_cmd(Context& ctx, const std::string& name, const std::string& output) {
  auto store = TRY(ctx.store());
  oci::ImageStore images(store);
  auto img = TRY(images.resolve(name));
  std::string tmpl = store.tmp_dir() + "/export-XXXXXX";
  if (!::mkdtemp(tmpl.data())) return sys_error("create temp dir");
  struct Cleanup {
    std::string dir;
    ~Cleanup() { (void)remove_tree(dir); }
  } cleanup{tmpl};
  TRY_CTX(images.flatten(img, tmpl), "exporting " + name);
  bool to_stdout = output.empty() || output == "-";
  if (to_stdout && ::isatty(1))
    return make_error(ErrorCode::invalid_argument, "refusing to write a tarball to a terminal: use -o FILE");
  std::string tmp_out = to_stdout ? "" : output + ".kiln-tmp";
  UniqueFd fd = to_stdout ? UniqueFd(::dup(1)) : TRY(open_fd(tmp_out, O_WRONLY | O_CREAT | O_TRUNC, 0644));
  int out = fd.get();
  auto st = oci::write_tar(tmpl, oci::TarOptions{}, [out](const void* d, size_t n) { return write_all(out, d, n); });
  fd.reset();
  if (!to_stdout) {
    if (st && ::rename(tmp_out.c_str(), output.c_str()) < 0) st = sys_error("rename to " + output);
    if (!st) ::unlink(tmp_out.c_str());
  }
  return st;
}

}  // namespace

void register_rootfs_commands(CLI::App& app, Context& ctx) {
  auto* unpack = app.add_subcommand("unpack", "Write an image's flattened root filesystem into a new directory");
  auto name = std::make_shared<std::string>(), dir = std::make_shared<std::string>();
  auto bundle = std::make_shared<bool>(false);
  unpack->add_option("IMAGE", *name, "image reference or ID")->required();
  unpack->add_option("DIR", *dir, "directory to create")->required();
  unpack->add_flag("--bundle", *bundle,
                   "an OCI runtime bundle: DIR/rootfs and DIR/config.json (for kiln-runtime, runc)");
  unpack->callback([&ctx, name, dir, bundle] {
    ctx.action = [&ctx, name, dir, bundle] { return unpack_cmd(ctx, *name, *dir, *bundle); };
  });

  auto* exp = app.add_subcommand("export", "Write an image's flattened root filesystem as one tarball");
  auto ename = std::make_shared<std::string>(), out = std::make_shared<std::string>();
  exp->add_option("IMAGE", *ename, "image reference or ID")->required();
  exp->add_option("-o,--output", *out, "tarball to write (default: standard output)");
  exp->callback([&ctx, ename, out] { ctx.action = [&ctx, ename, out] { return export_cmd(ctx, *ename, *out); }; });
}

}  // namespace kiln::cli
