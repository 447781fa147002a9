// A layer unpacked while it downloads.
#include "oci/layer_unpack.h"

#include <sys/socket.h>

#include <thread>

#include "common/fd.h"
#include "oci/extract.h"

namespace kiln::oci {

struct LayerUnpack::Impl {
  UniqueFd to_extractor;  // a socket, not a pipe: send() with MSG_NOSIGNAL reports a stopped reader as EPIPE
  std::thread extractor;
  Status result;
  bool stopped = false;
};

LayerUnpack::LayerUnpack(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}

std::unique_ptr<LayerUnpack> LayerUnpack::start(cas::LayerTrees& trees, const Descriptor& layer,
                                                const cas::Digest& diff_id) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return nullptr;
  auto impl = std::make_unique<Impl>();
  impl->to_extractor = UniqueFd(sv[0]);
  (void)::shutdown(sv[0], SHUT_RD);
  auto from_download = std::make_shared<UniqueFd>(sv[1]);
  Impl* self = impl.get();
  try {
    impl->extractor = std::thread([self, &trees, layer, diff_id, from_download] {
      auto tree = trees.ensure(diff_id, [&](const std::string& dir) -> Result<cas::TreeInfo> {
        ExtractOptions opts{Whiteouts::overlay, "layer " + layer.digest.str(), layer.digest, diff_id};
        TRY(extract_tar(from_download->get(), dir, opts));
        return cas::LayerTrees::measure(dir);
      });
      from_download->reset();  // a refused layer stops taking bytes: the download's send() sees EPIPE
      if (!tree) self->result = std::move(tree).error();
    });
  } catch (const std::system_error&) {
    return nullptr;
  }
  return std::unique_ptr<LayerUnpack>(new LayerUnpack(std::move(impl)));
}

LayerUnpack::~LayerUnpack() { (void)finish(); }

void LayerUnpack::feed(const char* data, size_t len) {
  while (len > 0 && !m->stopped) {
    ssize_t n = ::send(m->to_extractor.get(), data, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      m->stopped = true;
      break;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
}

Status LayerUnpack::finish() {
  if (!m->extractor.joinable()) return m->result;
  m->to_extractor.reset();  // the end of the stream: a complete layer is verified and published, a cut one refused
  m->extractor.join();
  return m->result;
}

}  // namespace kiln::oci
