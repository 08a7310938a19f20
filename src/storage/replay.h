// Replay of one logged txn onto a bare tree being recovered from a fuzzy
// snapshot (tools that track no sessions, e.g. zkformat's import). It is
// txn::StateMachine::Apply in fuzzy mode (see txn/state_machine.h for the
// fix-ups that make replay converge whatever moment each node was copied
// at), over `tree`; code that also needs the session table or the last
// zxid should keep a txn::StateMachine of its own instead.
// Single-threaded (the caller owns the tree).
#pragma once

#include "tree/data_tree.h"
#include "txn/txn.h"

namespace aviary::storage {

void ReplayTxn(tree::DataTree* tree, const txn::Txn& t);

}  // namespace aviary::storage
