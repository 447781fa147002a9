// Build cache records.
#include "builder/cache.h"

#include <dirent.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/fd.h"
#include "common/json.h"

namespace kiln::builder {

namespace {
Result<CacheRecord> parse(const std::string& text) {
  try {
    auto j = parse_json(text);
    CacheRecord r;
    r.created = j.value("created", "");
    if (j.contains("layer") && j["layer"].is_object()) {
      const auto& l = j["layer"];
      oci::StoredLayer s;
      s.blob.digest = TRY(cas::Digest::parse(l.at("digest").get<std::string>()));
      s.blob.size = l.at("size").get<uint64_t>();
      s.diff_id = TRY(cas::Digest::parse(l.at("diff_id").get<std::string>()));
      s.media_type = l.at("media_type").get<std::string>();
      r.layer = s;
    }
    return r;
  } catch (const nlohmann::json::exception& ex) {
    return make_error(ErrorCode::corrupt, std::string("malformed cache record: ") + ex.what());
  }
}
}  // namespace

std::optional<CacheRecord> BuildCache::get(const std::string& key) const {
  auto text = read_file(m_dir + "/" + key + ".json");
  if (!text) return std::nullopt;
  auto rec = parse(*text);
  if (!rec) return std::nullopt;
  if (rec->layer && !m_store.has_blob(rec->layer->blob.digest)) return std::nullopt;  // swept by gc --cache
  return *rec;
}

Status BuildCache::put(const std::string& key, const CacheRecord& rec) const {
  TRY(make_dirs(m_dir, 0700));
  nlohmann::json j = {{"created", rec.created}};
  if (rec.layer)
    j["layer"] = {{"digest", rec.layer->blob.digest.str()},
                  {"size", rec.layer->blob.size},
                  {"diff_id", rec.layer->diff_id.str()},
                  {"media_type", rec.layer->media_type}};
  // The temp file in the store's temp dir: a build worker stopped half way leaves nothing in the cache.
  return cas::write_file_atomic(m_dir + "/" + key + ".json", json_text(j), true, m_store.tmp_dir());
}

Result<std::vector<cas::IndexEntry>> BuildCache::gc_roots() const {
  std::vector<cas::IndexEntry> out;
  DIR* d = ::opendir(m_dir.c_str());
  if (!d) return out;
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d))
    if (std::string(e->d_name).ends_with(".json")) names.push_back(e->d_name);
  ::closedir(d);
  for (const auto& n : names) {
    auto text = read_file(m_dir + "/" + n);
    if (!text) continue;
    auto rec = parse(*text);
    if (rec && rec->layer)
      out.push_back(cas::IndexEntry{rec->layer->media_type, rec->layer->blob.digest, rec->layer->blob.size, ""});
  }
  return out;
}

namespace {
/// Unlink the files of dir (not its dot files); how many went.
size_t remove_files(const std::string& dir) {
  size_t n = 0;
  auto names = list_dir(dir);
  if (!names) return n;
  for (const auto& name : *names)
    if (name[0] != '.' && ::unlink((dir + "/" + name).c_str()) == 0) ++n;
  return n;
}
}  // namespace

Result<size_t> BuildCache::prune() const {
  remove_files(m_store.private_dir() + "/cache/stat");
  return remove_files(m_dir);
}

}  // namespace kiln::builder
