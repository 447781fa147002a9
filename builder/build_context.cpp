// The helpers every step kind shares.
#include "builder/build_context.h"

#include <sys/stat.h>

#include "oci/layer_stream.h"

namespace kiln::builder {

std::string BuildContext::absolute(const StageState& st, const std::string& p) {
  if (!p.empty() && p[0] == '/') return p;
  std::string wd = st.config.config.working_dir.empty() ? "/" : st.config.config.working_dir;
  if (wd.back() != '/') wd += '/';
  return wd + p;
}

Result<std::optional<oci::StoredLayer>> BuildContext::write_layer(const std::function<Status(oci::TarStream&)>& fill) {
  auto stream = TRY(oci::LayerStream::create(store, opts.compression));
  oci::TarOptions topts;
  topts.clamp_mtime = opts.timestamp;
  oci::LayerStream* ls = stream.get();
  oci::TarStream tar(topts, [ls](const void* d, size_t n) { return ls->write(d, n); });
  TRY(fill(tar));
  TRY(tar.close());
  return std::optional<oci::StoredLayer>(TRY(stream->commit()));
}

oci::DirMeta BuildContext::parent_meta(ImageView& v, const std::string& path, std::optional<uint32_t> uid,
                                       std::optional<uint32_t> gid) {
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

Result<const StageState*> BuildContext::built_stage(size_t idx, const std::string& from, const Instruction& ins) const {
  auto it = done.find(idx);
  if (it == done.end())
    return make_error(ErrorCode::generic, where(ins) + ": --from=" + from + ": that stage has not been built");
  return &it->second;
}

Result<std::string> BuildContext::source_root(const std::string& from, const Instruction& ins) {
  auto idx = find_stage(stages, from, stages.size());  // plan_stages refused --from cycles
  std::string key = idx ? "stage-" + std::to_string(*idx) : "image-" + from;
  if (auto it = flat.find(key); it != flat.end()) return it->second;
  std::string dir = tmp + "/" + cas::sha256_of(key).hex().substr(0, 16);
  TRY(make_dirs(dir));
  oci::Image img;
  if (idx) {
    const StageState* other = TRY(built_stage(*idx, from, ins));
    img.manifest.layers = other->layers;
    img.config = other->config;
  } else {
    auto found = images.resolve(from);
    if (!found)
      return std::move(found).error().context(where(ins) + ": --from=" + from +
                                              " is neither a stage nor an image in the store");
    img = *found;
    lease.add(img.id().str());
  }
  TRY(images.flatten(img, dir));
  flat[key] = dir;
  return dir;
}

}  // namespace kiln::builder
