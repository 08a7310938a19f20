// DigestLog: ZooKeeper 3.8's digest history (DataTree.digestLog, printed by
// the `hash` four-letter word): after each txn applied outside a fuzzy
// replay whose zxid is a multiple of kIntervalZxids, the pair (zxid, tree
// digest) is appended; the newest kLimit are kept. With digest.enabled=false
// ZooKeeper's tree digest stays 0 and the entries are still made, with 0.
//
// It sits on the state machine as its ApplyObserver and forwards every call
// to the DigestChecker that keeps the digest (the ensemble's, which also
// compares it with the leader's, or one of its own when standalone), so the
// digest is computed once. Differs from ZooKeeper in one place: the txns
// replayed at start (before the core runs) add no entries; ZooKeeper's
// replay of the log after its snapshot does.
//
// Thread: the applying (core) thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "admin/server_snapshot.h"
#include "txn/state_machine.h"
#include "zkformat/digest_check.h"

namespace aviary::server {

class DigestLog final : public txn::ApplyObserver {
 public:
  static constexpr int64_t kIntervalZxids = 128;  // DataTree.DIGEST_LOG_INTERVAL
  static constexpr size_t kLimit = 1024;          // DataTree.DIGEST_LOG_LIMIT

  // `digest`: not owned, may be null (digest.enabled=false: entries hold 0).
  explicit DigestLog(zkformat::DigestChecker* digest) : digest_(digest) {}

  void BeforeApply(const tree::DataTree& tree, const txn::Txn& t, const tree::Node* node) override {
    if (digest_ != nullptr) digest_->BeforeApply(tree, t, node);
  }
  void AfterApply(const tree::DataTree& tree, const txn::Txn& t) override {
    if (digest_ != nullptr) digest_->AfterApply(tree, t);
    if (t.zxid % kIntervalZxids != 0) return;
    entries_.push_back(admin::ZxidDigest{t.zxid, digest_ != nullptr ? digest_->Current(tree) : 0});
    if (entries_.size() > kLimit) entries_.pop_front();
  }
  void TreeChanged() override {
    if (digest_ != nullptr) digest_->TreeChanged();
  }
  void Prefetch(const tree::Node& node) const override {
    if (digest_ != nullptr) digest_->Prefetch(node);
  }

  std::vector<admin::ZxidDigest> Entries() const { return {entries_.begin(), entries_.end()}; }

 private:
  zkformat::DigestChecker* digest_;
  std::deque<admin::ZxidDigest> entries_;
};

}  // namespace aviary::server
