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
//  - peer < log_base, or a DIFF / TRUNC from the log that `diff_allowed`
//    forbids (the snapshotSizeFactor rule, below): SNAP of the state
//    applied through `committed`, then the txns in (committed, through].
// `through` is the leader's history end during discovery, its commit point
// during broadcast. Outstanding proposals and NEWLEADER follow (node.cc).
#pragma once

#include <cstdint>
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

SyncPlan PlanSync(Zxid peer, Zxid through, Zxid committed, Zxid log_base, bool peer_logged, Zxid floor,
                  bool diff_allowed = true);

// ZooKeeper's size rule for a DIFF from the txn log
// (ZKDatabase.calculateTxnLogSizeLimit + getProposalsFromTxnLog): the limit
// is snapshotSizeFactor x the newest snapshot's bytes (0, e.g. no snapshot
// or a factor of 0: no limit; a negative factor: no DIFF from the log at
// all). For a learner at zxid p the log iterator starts in the newest file
// whose name (first zxid) is < p (else the oldest), and what it measures is
// the bytes of the files after that one; over the limit, SNAP. Given the
// log files (name, bytes; any order), this returns the smallest p whose DIFF
// is within the limit: a learner below it gets a SNAP unless it missed at
// most commitLogCount txns (Node::SetDiffFloor). kNoDiffFromLog when a
// negative factor forbids every DIFF from the files.
struct LogFile {
  Zxid first = 0;  // the zxid in its name
  int64_t bytes = 0;
};
inline constexpr Zxid kNoDiffFromLog = INT64_MAX;
Zxid DiffSizeFloor(std::vector<LogFile> files, int64_t snapshot_bytes, double factor);
std::vector<Outgoing> PlanPackets(const SyncPlan& plan, ConnId conn);
const char* SyncKindName(SyncPlan::Kind kind);

}  // namespace aviary::zab
