// The leader's synchronisation decision for one learner
// (LearnerHandler.syncFollower in ZooKeeper 3.8), as a pure function of the
// learner's last logged zxid and what the leader's log holds.
//
//  - peer == through: DIFF(through), nothing to send;
//  - peer > through: TRUNC(through) (a peer zxid with counter 0 of a later
//    epoch gets SNAP, as ZooKeeper does for isPeerNewEpochZxid);
//  - log_base <= peer < through: DIFF(through) + the txns in (peer, through]
//    when the leader logged `peer`; else TRUNC(floor) + the txns in
//    (floor, through], floor being the leader's largest zxid below peer,
//    except for a peer zxid with counter 0 (a new epoch's, no txn): DIFF
//    (through) + the txns in (floor, through], as ZooKeeper;
//  - peer < log_base: SNAP of the state applied through `committed`, then
//    the txns in (committed, through].
// `through` is the leader's history end during discovery, its commit point
// during broadcast. Outstanding proposals and NEWLEADER follow (node.cc).
#pragma once

#include <vector>

#include "zab/types.h"

namespace aviary::zab {

struct SyncPlan {
  enum class Kind { kDiff, kTrunc, kSnap };
  Kind kind = Kind::kDiff;
  Zxid zxid = 0;       // the DIFF / TRUNC / SNAP packet's zxid
  Zxid diff_from = 0;  // then PROPOSAL+COMMIT for the txns in (diff_from, diff_to]
  Zxid diff_to = 0;
};

SyncPlan PlanSync(Zxid peer, Zxid through, Zxid committed, Zxid log_base, bool peer_logged, Zxid floor);
std::vector<Outgoing> PlanPackets(const SyncPlan& plan, ConnId conn);
const char* SyncKindName(SyncPlan::Kind kind);

}  // namespace aviary::zab
