// One small file per blob under <store>/kiln/locations/<hex>, a line "host repo" per place, appended with
// O_APPEND so concurrent writers never interleave a line.
#include "oci/blob_locations.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "common/fd.h"

namespace kiln::oci {

namespace {

std::string dir_of(const cas::Store& store) { return store.private_dir() + "/locations"; }

std::vector<std::pair<std::string, std::string>> read_lines(const cas::Store& store, const cas::Digest& blob) {
  std::vector<std::pair<std::string, std::string>> out;
  auto text = read_file(dir_of(store) + "/" + blob.hex());
  if (!text) return out;
  std::istringstream in(*text);
  std::string host, repo;
  while (in >> host >> repo) out.emplace_back(host, repo);
  return out;
}

}  // namespace

void remember_location(const cas::Store& store, const cas::Digest& blob, const std::string& host,
                       const std::string& repo) {
  if (host.empty() || repo.empty() || host.find_first_of(" \n") != std::string::npos ||
      repo.find_first_of(" \n") != std::string::npos)
    return;
  for (const auto& [h, r] : read_lines(store, blob))
    if (h == host && r == repo) return;
  if (!make_dirs(dir_of(store))) return;  // a hint only: failing to record costs a re-upload later, nothing else
  int fd = ::open((dir_of(store) + "/" + blob.hex()).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  UniqueFd owned(fd);
  (void)write_all(fd, host + " " + repo + "\n");
}

std::vector<std::string> known_repositories(const cas::Store& store, const cas::Digest& blob, const std::string& host) {
  std::vector<std::string> out;
  for (const auto& [h, r] : read_lines(store, blob))
    if (h == host && std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  std::reverse(out.begin(), out.end());
  return out;
}

void forget_missing_locations(const cas::Store& store) {
  auto names = list_dir(dir_of(store));
  if (!names) return;
  for (const auto& n : *names) {
    auto d = cas::Digest::parse("sha256:" + n);
    if (!d || !store.has_blob(*d)) ::unlink((dir_of(store) + "/" + n).c_str());
  }
}

}  // namespace kiln::oci
