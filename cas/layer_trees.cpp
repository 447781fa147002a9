// Unpacked layer trees.
#include "cas/layer_trees.h"
#include "common/json.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace kiln::cas {

bool LayerTrees::has(const Digest& diff_id) const { return path_exists(root(diff_id)); }

Result<std::string> LayerTrees::ensure(const Digest& diff_id,
                                       const std::function<Result<TreeInfo>(const std::string&)>& fill) {
  if (has(diff_id)) return root(diff_id);
  TRY(make_dirs(m_base, 0700));
  std::string tmpl = m_store->tmp_dir() + "/tree-XXXXXX";
  if (!::mkdtemp(tmpl.data())) return sys_error("create temp dir in " + m_store->tmp_dir());
  auto cleanup = [&] { (void)remove_tree(tmpl); };
  std::string tree = tmpl + "/root";
  if (::mkdir(tree.c_str(), 0755) < 0) {
    cleanup();
    return sys_error("mkdir " + tree);
  }
  auto info = fill(tree);
  if (!info) {
    cleanup();
    return std::move(info).error();
  }
  nlohmann::json j = {{"diff_id", diff_id.str()}, {"entries", info->entries}, {"bytes", info->bytes}};
  if (auto st = write_file_atomic(tmpl + "/info.json", json_text(j)); !st) {
    cleanup();
    return std::move(st).error();
  }
  if (::rename(tmpl.c_str(), dir(diff_id).c_str()) < 0) {
    int e = errno;
    cleanup();
    if (e == EEXIST || e == ENOTEMPTY) return root(diff_id);  // another process won the race
    return sys_error("publish layer tree " + diff_id.str(), e);
  }
  (void)fsync_dir(m_base);
  return root(diff_id);
}

Result<std::vector<Digest>> LayerTrees::list() const {
  std::vector<Digest> out;
  for (const auto& n : TRY(list_dir(m_base)))
    if (is_sha256_hex(n)) out.push_back(Digest::from_hex(n));
  return out;
}

Result<TreeInfo> LayerTrees::read_info(const Digest& diff_id) const {
  std::string text = TRY(read_file(dir(diff_id) + "/info.json"));
  try {
    auto j = parse_json(text);
    return TreeInfo{json_uint(j, "entries", std::nullopt), json_uint(j, "bytes", std::nullopt)};
  } catch (const nlohmann::json::exception& ex) {
    return make_error(ErrorCode::corrupt, dir(diff_id) + "/info.json is malformed: " + ex.what());
  }
}

namespace {
Status measure_at(int dirfd, TreeInfo& info) {
  int fd = ::dup(dirfd);
  if (fd < 0) return sys_error("dup");
  DIR* d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    return sys_error("opendir");
  }
  ::rewinddir(d);
  Status result;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st;
    if (::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      result = sys_error("stat " + n);
      break;
    }
    info.entries++;
    if (S_ISREG(st.st_mode)) info.bytes += static_cast<uint64_t>(st.st_size);
    if (S_ISDIR(st.st_mode)) {
      int sub = ::openat(dirfd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        result = sys_error("open " + n);
        break;
      }
      result = measure_at(sub, info);
      ::close(sub);
      if (!result) break;
    }
  }
  ::closedir(d);
  return result;
}
}  // namespace

Result<TreeInfo> LayerTrees::measure(const std::string& root) {
  UniqueFd fd = TRY(open_fd(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  TreeInfo info;
  TRY_CTX(measure_at(fd.get(), info), root);
  return info;
}

Status LayerTrees::remove(const Digest& diff_id) const {
  // Rename first so a half-removed tree is never mistaken for a complete one.
  std::string doomed = m_store->tmp_dir() + "/doomed-" + diff_id.hex();
  if (::rename(dir(diff_id).c_str(), doomed.c_str()) < 0) {
    if (errno == ENOENT) return {};
    return sys_error("remove layer tree " + diff_id.str());
  }
  return remove_tree(doomed);
}

}  // namespace kiln::cas
