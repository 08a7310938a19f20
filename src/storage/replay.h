// Replay of one logged txn onto a tree being recovered from a fuzzy
// snapshot. Wraps txn::Apply with the fix-ups that make replay converge to
// the live tree whatever moment each node was copied at:
//  - a successful multi is applied op by op (same tree effect as Apply);
//  - a delete whose node has children in the replayed tree first removes
//    that subtree (the live node had none when deleted, so those children
//    are from the snapshot's "future" and later txns re-create them);
//  - a create of any kind that finds its node already present raises the
//    parent's cversion/pzxid (Apply does it for kCreate only).
// Single-threaded (the caller owns the tree).
#pragma once

#include "tree/data_tree.h"
#include "txn/txn.h"

namespace aviary::storage {

void ReplayTxn(tree::DataTree* tree, const txn::Txn& t);

}  // namespace aviary::storage
