// DigestPredictor: the TxnDigest a leader puts in each PROPOSAL, as
// ZooKeeper's PrepRequestProcessor precalculates it: the tree digest after
// the txn, predicted before the txn (or any txn proposed before it and still
// in flight) is applied. It keeps the nodes the txns in flight changed (as
// they are after each: PredictDigest's NodeValues, no data bytes) and the
// digest after the last proposed txn; the applied tree and its digest
// (DigestChecker::Current) are passed in, so the view is the tree plus the
// changes of the txns newer than what the tree reflects. O(nodes the txn
// touches) per txn; no full-tree walk.
//
// Which txns carry a digest (ZooKeeper 3.8, docs/format/zookeeper.md):
// every one except the ErrorTxn of a failed single operation (createSession,
// closeSession, failed multis and the rest do; a txn that changes nothing
// carries the current digest).
//
// A closeSession with no paths gets the session's ephemerals as the leader
// sees them (the tree's, minus pending deletes, plus pending ephemeral
// creates), as ZooKeeper's leader lists them in paths2Delete.
//
// Threads: the thread that prepares and applies (the core thread).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "tree/data_tree.h"
#include "txn/txn.h"
#include "zkformat/digest_predict.h"

namespace aviary::zkformat {

class DigestPredictor {
 public:
  // `t` (zxid assigned, prepared against the tree plus the txns proposed
  // before it) is about to be proposed. `tree` reflects every txn up to
  // `applied_zxid` and has digest `applied_digest`. Fills a closeSession's
  // paths_to_delete when empty; returns the digest after `t`, or nullopt
  // when ZooKeeper would send none. A zxid that does not follow the last
  // one predicted (a new epoch, or proposals abandoned at a role change)
  // starts over from the tree.
  std::optional<int64_t> Predict(const tree::DataTree& tree, int64_t applied_zxid, int64_t applied_digest, txn::Txn* t);
  // A closeSession with no paths gets the session's ephemerals as seen
  // through the txns in flight (Predict does this too; call it first when
  // the paths must be known before predicting, e.g. to encode the txn).
  void FillClosePaths(const tree::DataTree& tree, int64_t applied_zxid, txn::Txn* t);
  // Forget everything in flight.
  void Clear();
  size_t in_flight_nodes() const { return nodes_.size(); }

 private:
  struct Pending {
    int64_t zxid = 0;
    std::optional<NodeValue> value;  // nullopt: deleted
  };
  // Lookups by string_view (no std::string built per lookup).
  struct PathHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Drops what the tree now reflects; everything when `next_zxid` does not
  // follow the last txn predicted.
  void Sync(int64_t applied_zxid, int64_t next_zxid);

  std::unordered_map<std::string, Pending, PathHash, std::equal_to<>> nodes_;  // newest change of each path in flight
  std::deque<std::pair<int64_t, std::string>> order_;                          // (zxid, path) as recorded, for Prune
  int64_t last_zxid_ = 0;
  int64_t last_digest_ = 0;
  PredictedNodes changed_;  // Predict's, kept for its capacity
};

}  // namespace aviary::zkformat
