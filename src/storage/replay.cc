#include "storage/replay.h"

#include "txn/state_machine.h"

namespace aviary::storage {

void ReplayTxn(tree::DataTree* tree, const txn::Txn& t) {
  txn::StateMachine sm(tree);
  sm.SetFuzzy(true);
  sm.Apply(t);
}

}  // namespace aviary::storage
