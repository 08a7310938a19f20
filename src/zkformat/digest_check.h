// DigestChecker: ZooKeeper's tree digest kept beside a txn::StateMachine
// (as its ApplyObserver) and compared, after every strict apply, with the
// digest the txn came with (txn::Txn::zk_digest: a PROPOSAL's TxnDigest, or
// what this leader predicted) - ZooKeeper's DataTree.compareDigest. A txn
// without one is not compared (as ZooKeeper). A mismatch raises the count
// (mntr zk_digest_mismatches_count) and calls on_mismatch.
//
// Incremental: a DigestTracker around each apply (O(nodes the txn
// touches)); the full walk (TreeDigestOf) runs only when the tree changed
// behind it (TreeChanged: a snapshot loaded, a fuzzy replay), lazily, at the
// next apply or Current().
//
// Threads: everything but mismatches()/compared() on the applying thread
// (the core thread); those two are atomics, for any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "txn/state_machine.h"
#include "zkformat/digest.h"

namespace aviary::zkformat {

struct DigestMismatch {
  int64_t zxid = 0;
  int64_t expected = 0;  // the txn's digest
  int64_t actual = 0;    // this tree's after the apply
};

class DigestChecker final : public txn::ApplyObserver {
 public:
  using OnMismatch = std::function<void(const DigestMismatch&)>;
  explicit DigestChecker(OnMismatch on_mismatch = {}) : on_mismatch_(std::move(on_mismatch)) {}

  void BeforeApply(const tree::DataTree& tree, const txn::Txn& t, const tree::Node* node) override;
  void AfterApply(const tree::DataTree& tree, const txn::Txn& t) override;
  void TreeChanged() override { valid_ = false; }
  void Prefetch(const tree::Node& node) const override { tracker_.Prefetch(node); }

  // The digest of `tree` as applied so far (the tree this checker watches).
  int64_t Current(const tree::DataTree& tree);
  int64_t mismatches() const { return mismatches_.load(std::memory_order_relaxed); }
  int64_t compared() const { return compared_.load(std::memory_order_relaxed); }

 private:
  OnMismatch on_mismatch_;
  DigestTracker tracker_;
  bool valid_ = false;
  std::atomic<int64_t> mismatches_{0};
  std::atomic<int64_t> compared_{0};
};

}  // namespace aviary::zkformat
