// Garbage collection and fsck.
#include "cas/gc.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cas/graph.h"

namespace kiln::cas {

namespace {

Result<std::vector<IndexEntry>> all_roots(const Store& store, const std::vector<IndexEntry>& extra) {
  auto roots = TRY(store.list());
  roots.insert(roots.end(), extra.begin(), extra.end());
  return roots;
}

}  // namespace

Result<GcReport> collect_garbage(Store& store, const std::vector<IndexEntry>& extra_roots, bool wait) {
  auto lock =
      TRY(wait ? store.gc_lock() : FileLock::try_acquire(store.private_dir() + "/gc.lock", FileLock::Mode::exclusive));
  auto roots = TRY(all_roots(store, extra_roots));
  Reachable live = walk_reachable(store, roots);
  GcReport rep;
  for (const auto& name : TRY(list_dir(store.blobs_dir()))) {
    if (!is_sha256_hex(name)) continue;
    Digest d = Digest::from_hex(name);
    if (live.blobs.count(d)) continue;
    struct stat st;
    if (::stat(store.blob_path(d).c_str(), &st) == 0) rep.blob_bytes += static_cast<uint64_t>(st.st_size);
    if (::unlink(store.blob_path(d).c_str()) < 0 && errno != ENOENT) return sys_error("remove blob " + d.str());
    rep.blobs++;
  }
  LayerTrees trees(store);
  for (const auto& id : TRY(trees.list())) {
    if (live.trees.count(id)) continue;
    if (auto info = trees.read_info(id)) rep.tree_bytes += info->bytes;
    TRY(trees.remove(id));
    rep.trees++;
  }
  // Nobody else holds the store now: whatever is in tmp was left by a killed process.
  for (const auto& name : TRY(list_dir(store.tmp_dir()))) {
    TRY(remove_tree(store.tmp_dir() + "/" + name));
    rep.temp_files++;
  }
  for (const auto& name : TRY(list_dir(store.blobs_dir())))
    if (!is_sha256_hex(name)) {  // an interrupted atomic write left beside the blobs
      TRY(remove_tree(store.blobs_dir() + "/" + name));
      rep.temp_files++;
    }
  TRY(fsync_dir(store.blobs_dir()));
  return rep;
}

Result<std::vector<std::string>> check_store(const Store& store, const std::vector<IndexEntry>& extra_roots) {
  std::vector<std::string> problems;
  // On the heap, for fsck alone: as a static thread_local it made every kiln process (and thread) start by
  // zeroing 64 KiB of TLS, 16 page faults.
  std::vector<char> buf(1 << 16);
  for (const auto& name : TRY(list_dir(store.blobs_dir()))) {
    if (!is_sha256_hex(name)) {
      problems.push_back("stray file in blobs/sha256: " + name);
      continue;
    }
    Digest d = Digest::from_hex(name);
    auto fd = store.open_blob(d);
    if (!fd) {
      problems.push_back(fd.error().what());
      continue;
    }
    Sha256 h;
    ssize_t n;
    while ((n = ::read(fd->get(), buf.data(), buf.size())) > 0) h.update(buf.data(), static_cast<size_t>(n));
    if (n < 0) {
      problems.push_back("blob " + d.str() + ": read error");
      continue;
    }
    Digest got = h.finish();
    if (got != d) problems.push_back("blob " + d.str() + " is corrupt: its content hashes to " + got.str());
  }
  auto roots = all_roots(store, extra_roots);
  if (!roots) {
    problems.push_back(roots.error().what());
    return problems;
  }
  Reachable live = walk_reachable(store, *roots);
  problems.insert(problems.end(), live.problems.begin(), live.problems.end());
  LayerTrees trees(store);
  for (const auto& name : TRY(list_dir(trees.base()))) {
    if (!is_sha256_hex(name)) {
      problems.push_back("stray entry in " + trees.base() + ": " + name);
      continue;
    }
    Digest id = Digest::from_hex(name);
    auto info = trees.read_info(id);
    if (!info) {
      problems.push_back("layer tree " + id.str() + ": " + info.error().what());
      continue;
    }
    auto now = LayerTrees::measure(trees.root(id));
    if (!now) {
      problems.push_back("layer tree " + id.str() + ": " + now.error().what());
      continue;
    }
    if (now->entries != info->entries || now->bytes != info->bytes)
      problems.push_back("layer tree " + id.str() + " was modified: " + std::to_string(now->entries) + " entries / " +
                         std::to_string(now->bytes) + " bytes, extracted " + std::to_string(info->entries) + " / " +
                         std::to_string(info->bytes));
  }
  return problems;
}

}  // namespace kiln::cas
