// The tree digest a txn will produce, computed before it is applied - what
// a ZooKeeper leader puts in a PROPOSAL (PrepRequestProcessor's
// precalculated digest): the digest after every earlier txn, minus the
// digests of the nodes this txn changes as they are now, plus their digests
// after the change. The change is simulated on copies of the touched nodes
// with DataTree's rules (createNode's parent cversion/pzxid, deleteNode's
// parent pzxid, setData, setACL, multi ops in order), so the tree itself
// is not touched and txns still in flight can be seen through `lookup`.
// Pure; single-threaded.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "tree/node.h"
#include "txn/txn.h"

namespace aviary::zkformat {

// The node at `path` as it is before the txn (the tree plus the effect of
// txns proposed but not applied yet); nullptr when absent. "/" is the root.
using NodeLookup = std::function<const tree::Node*(std::string_view path)>;

// For a closeSession, `t` must list the session's ephemerals in
// paths_to_delete (FillClosePaths, or the pending view of them), as a
// ZooKeeper leader's txn does.
int64_t PredictDigest(int64_t digest_before, const NodeLookup& lookup, const txn::Txn& t);

// The same, also handing back every node the txn touched as it is after the
// txn (nullopt: deleted or absent), without children: what a leader keeps
// as the view of the txns in flight (DigestPredictor).
using PredictedNodes = std::map<std::string, std::optional<tree::Node>>;
int64_t PredictDigest(int64_t digest_before, const NodeLookup& lookup, const txn::Txn& t, PredictedNodes* changed);

}  // namespace aviary::zkformat
