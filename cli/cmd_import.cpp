// kiln import, load, save.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <iostream>

#include "cli/command.h"
#include "oci/archive.h"
#include "oci/reference.h"
#include "oci/tar_import.h"

namespace kiln::cli {

namespace {

Result<UniqueFd> open_input(const std::string& path) {
  if (path == "-") return UniqueFd(::dup(0));
  return open_fd(path, O_RDONLY);
}

Status import_cmd(Context& ctx, const std::string& file, const std::string& ref_text, const std::string& comp_name) {
  oci::media::Compression comp;
  if (!oci::media::parse_compression(comp_name, comp))
    return make_error(ErrorCode::invalid_argument,
                      "unknown --compression \"" + comp_name + "\": use gzip, zstd or none");
  std::vector<std::string> refs;
  if (!ref_text.empty()) refs.push_back(TRY(oci::Reference::parse(ref_text)).str());
  auto epoch = TRY(source_date_epoch(""));  // checked before anything is stored
  auto store = TRY(ctx.store());
  auto lock = TRY(store.writer_lock());
  UniqueFd in = TRY(open_input(file));
  std::string label = file == "-" ? "standard input" : file;
  auto layer = TRY_CTX(oci::import_tarball(store, in.get(), comp, label), "importing " + label);
  oci::ImageConfig cfg;
  cfg.created = oci::rfc3339(epoch ? *epoch : static_cast<int64_t>(::time(nullptr)));
  cfg.diff_ids.push_back(layer.diff_id);
  cfg.history.push_back(oci::HistoryEntry{cfg.created, "kiln import",
                                          "Imported from " + std::string(file == "-" ? "-" : "tarball"), false});
  oci::ImageStore images(store);
  TRY(images.commit(cfg, {layer}, refs));
  std::cout << cas::sha256_of(oci::to_json(cfg)).str() << "\n";
  return {};
}

Status load_cmd(Context& ctx, const std::string& input, bool quiet) {
  auto store = TRY(ctx.store());
  auto lock = TRY(store.writer_lock());
  UniqueFd in = TRY(open_input(input.empty() ? "-" : input));
  oci::ImageStore images(store);
  std::string label = input.empty() || input == "-" ? "standard input" : input;
  auto loaded = TRY_CTX(oci::load_archive(images, in.get(), label), "loading " + label);
  if (loaded.empty())
    return make_error(ErrorCode::invalid_argument, "loading " + label + ": the archive holds no image (its index lists no manifests)");
  if (!quiet)
    for (const auto& n : loaded)
      std::cout << (n.rfind("sha256:", 0) == 0 ? "Loaded image ID: " : "Loaded image: ") << n << "\n";
  return {};
}

Status save_cmd(Context& ctx, const std::vector<std::string>& names, const std::string& output,
                const std::string& fmt) {
  oci::ArchiveFormat format;
  if (fmt == "oci-archive" || fmt == "oci")
    format = oci::ArchiveFormat::oci;
  else if (fmt == "docker-archive" || fmt == "docker")
    format = oci::ArchiveFormat::docker;
  else
    return make_error(ErrorCode::invalid_argument,
                      "unknown --format \"" + fmt + "\": use oci-archive or docker-archive");
  auto store = TRY(ctx.store());
  oci::ImageStore images(store);
  std::vector<oci::Image> list;
  for (const auto& n : names) list.push_back(TRY(images.resolve(n)));
  if (output.empty() || output == "-") {
    if (::isatty(1))
      return make_error(ErrorCode::invalid_argument, "refusing to write an archive to a terminal: use -o FILE");
    return oci::save_archive(images, list, format, 1);
  }
  // Write beside the target and rename, so a failed save never leaves a half archive under the name.
  std::string tmp = output + ".kiln-tmp";
  UniqueFd fd = TRY(open_fd(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644));
  auto st = oci::save_archive(images, list, format, fd.get());
  if (st && ::fsync(fd.get()) < 0) st = sys_error("fsync " + output);
  fd.reset();
  if (st && ::rename(tmp.c_str(), output.c_str()) < 0) st = sys_error("rename to " + output);
  if (!st) {
    ::unlink(tmp.c_str());
    return std::move(st).error().context("saving to " + output);
  }
  return {};
}

}  // namespace

void register_import_commands(CLI::App& app, Context& ctx) {
  auto* imp = app.add_subcommand("import", "Create a one-layer image from a rootfs tarball (like docker import)");
  auto file = std::make_shared<std::string>(), ref = std::make_shared<std::string>();
  auto comp = std::make_shared<std::string>("gzip");
  imp->add_option("TARBALL", *file, "rootfs .tar, .tar.gz or .tar.zst, or - for standard input")->required();
  imp->add_option("REFERENCE", *ref, "name for the image, e.g. localhost/base:1");
  imp->add_option("--compression", *comp, "layer compression: gzip (default), zstd or none");
  imp->callback([&ctx, file, ref, comp] {
    ctx.action = [&ctx, file, ref, comp] { return import_cmd(ctx, *file, *ref, *comp); };
  });

  auto* load = app.add_subcommand("load", "Load images from an oci-archive or docker-archive");
  auto input = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  load->add_option("-i,--input", *input, "archive file (default: standard input)");
  load->add_flag("-q,--quiet", *quiet, "print nothing");
  load->callback([&ctx, input, quiet] { ctx.action = [&ctx, input, quiet] { return load_cmd(ctx, *input, *quiet); }; });

  auto* save = app.add_subcommand("save", "Write images to an archive");
  auto names = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>(), fmt = std::make_shared<std::string>("oci-archive");
  save->add_option("IMAGE", *names, "image reference or ID")->required();
  save->add_option("-o,--output", *out, "archive file (default: standard output)");
  save->add_option("--format", *fmt, "oci-archive (default) or docker-archive");
  save->callback(
      [&ctx, names, out, fmt] { ctx.action = [&ctx, names, out, fmt] { return save_cmd(ctx, *names, *out, *fmt); }; });
}

}  // namespace kiln::cli
