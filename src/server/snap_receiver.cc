#include "server/snap_receiver.h"

namespace aviary::server {

SnapReceiver::SnapReceiver()
    : tree_(std::make_unique<tree::DataTree>()), loader_(std::make_unique<zkformat::SnapshotLoader>(tree_.get())) {}

// The loader takes whole items only: what it leaves stays in the stream
// parser's buffer (bounded by its packet bound) until more arrives.
quorum::ParseStatus SnapReceiver::Feed(std::string_view bytes, size_t* consumed) {
  *consumed = 0;
  if (!body_done_) {
    size_t used = 0;
    zkformat::SnapshotLoader::Status st = loader_->Feed(bytes, &used);
    *consumed += used;
    bytes.remove_prefix(used);
    if (st == zkformat::SnapshotLoader::Status::kError) {
      error_ = "SNAP body: " + loader_->error();
      return quorum::ParseStatus::kBad;
    }
    if (st == zkformat::SnapshotLoader::Status::kNeedMore) return quorum::ParseStatus::kNeedMore;
    body_done_ = true;
  }
  size_t used = 0;
  zkformat::SnapshotLoader::Status st = zkformat::ReadSnapSignature(bytes, &used);
  if (st == zkformat::SnapshotLoader::Status::kError) {
    error_ = "SNAP: no BenWasHere signature after the body";
    return quorum::ParseStatus::kBad;
  }
  if (st == zkformat::SnapshotLoader::Status::kNeedMore) return quorum::ParseStatus::kNeedMore;
  *consumed += used;
  done_ = true;
  return quorum::ParseStatus::kOk;
}

}  // namespace aviary::server
