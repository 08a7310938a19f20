// The tree digest a txn will produce, computed before it is applied - what
// a ZooKeeper leader puts in a PROPOSAL (PrepRequestProcessor's
// precalculated digest): the digest after every earlier txn, minus the
// digests of the nodes this txn changes as they are now, plus their digests
// after the change. The change is simulated on values of the touched nodes
// (NodeValue: a CRC state, the stat, the kind; no data copy) with
// DataTree's rules (createNode's parent cversion/pzxid, deleteNode's parent
// pzxid, setData, setACL, multi ops in order), so the tree itself is not
// touched and txns still in flight can be seen through `lookup`. Pure;
// single-threaded.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "tree/node.h"
#include "txn/txn.h"
#include "zkformat/checksum.h"
#include "zkformat/digest.h"

namespace aviary::zkformat {

// The node at `path` as it is before the txn (the tree plus the effect of
// txns proposed but not applied yet); nullptr when absent. "/" is the root.
using NodeLookup = std::function<const tree::Node*(std::string_view path)>;

// For a closeSession, `t` must list the session's ephemerals in
// paths_to_delete (FillClosePaths, or the pending view of them), as a
// ZooKeeper leader's txn does.
int64_t PredictDigest(int64_t digest_before, const NodeLookup& lookup, const txn::Txn& t);

// What the digest needs of a node, without its data bytes and without a
// tree::Node (no data copy, no stat pool entry): the CRC state after its
// path and data (NodeDigestHead), its persisted stat and its kind. A
// prediction changes it as DataTree would change the node; its digest is
// NodeDigestFinish(path, head, stat).
struct NodeValue {
  Crc32 head;
  tree::StatPersisted stat;  // ephemeral_owner included
  tree::NodeKind kind = tree::NodeKind::kPersistent;
};
// The value of a tree node at `path`.
NodeValue ValueOf(std::string_view path, const tree::Node& n);
inline uint64_t DigestOf(std::string_view path, const NodeValue& v) { return NodeDigestFinish(path, v.head, v.stat); }

// A node as the predictor sees it before a txn: the tree's node, or the
// value a txn in flight left (the predictor's), or absent (both null).
struct NodeBefore {
  const tree::Node* node = nullptr;
  const NodeValue* value = nullptr;
};
using ValueLookup = std::function<NodeBefore(std::string_view path)>;

// The same prediction, also handing back every node the txn touched as it
// is after the txn (nullopt: deleted or absent): what a leader keeps as the
// view of the txns in flight (DigestPredictor). `changed` is cleared first;
// its paths view `t`'s strings (or a static "/"): valid while `t` is.
struct PredictedNode {
  std::string_view path;
  std::optional<NodeValue> value;
};
using PredictedNodes = std::vector<PredictedNode>;
int64_t PredictDigest(int64_t digest_before, const ValueLookup& lookup, const txn::Txn& t, PredictedNodes* changed);

}  // namespace aviary::zkformat
