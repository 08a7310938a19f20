// SnapReceiver: the raw section after a SNAP packet on a learner's quorum
// connection (quorum::RawSection): ZooKeeper's snapshot body, parsed as it
// arrives into a fresh tree (zkformat::SnapshotLoader, bounded), then the
// "BenWasHere" signature. The QuorumPeer takes the tree and the sessions
// from it once the transport reports the section done.
//
// Thread: fed on the quorum transport's I/O thread, then handed (with the
// kRawDone event) to the consensus thread; never shared.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "quorum/codec.h"
#include "storage/snapshot.h"
#include "tree/data_tree.h"
#include "zkformat/snapshot.h"

namespace aviary::server {

class SnapReceiver final : public quorum::RawSection {
 public:
  SnapReceiver();
  quorum::ParseStatus Feed(std::string_view bytes, size_t* consumed) override;

  bool ok() const { return done_ && error_.empty(); }
  const std::string& error() const { return error_; }
  tree::DataTree& tree() { return *tree_; }
  const std::vector<storage::SessionRecord>& sessions() const { return loader_->sessions(); }

 private:
  std::unique_ptr<tree::DataTree> tree_;
  std::unique_ptr<zkformat::SnapshotLoader> loader_;
  bool body_done_ = false;
  bool done_ = false;
  std::string error_;
};

}  // namespace aviary::server
