// A layer unpacked while it downloads: the bytes that go to the blob also feed an extractor on another thread.
#pragma once

#include <memory>
#include <string>

#include "cas/layer_trees.h"
#include "common/error.h"
#include "oci/image.h"

namespace kiln::oci {

/// The extractor fills the layer tree of diff_id in a temp dir and publishes it only when the bytes hash to the
/// layer's digest and the tar they hold to diff_id; anything else leaves nothing (LayerTrees::ensure). It only
/// speeds things up: when it fails, the download goes on, and the tree is made (or refused) from the stored blob
/// later, as without it.
class LayerUnpack {
 public:
  /// Starts the extractor thread; nullptr (and nothing to do) when it cannot start.
  static std::unique_ptr<LayerUnpack> start(cas::LayerTrees& trees, const Descriptor& layer,
                                            const cas::Digest& diff_id);
  ~LayerUnpack();
  /// Pass downloaded bytes on. Once the extractor has stopped (it refused the layer) they are dropped.
  void feed(const char* data, size_t len);
  /// The download ended: the extractor reads the end of its stream and the thread is joined. Whether a tree was
  /// published, with why not.
  Status finish();

 private:
  struct Impl;
  explicit LayerUnpack(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m;
};

}  // namespace kiln::oci
