#include "zab/sync_plan.h"

namespace aviary::zab {

SyncPlan PlanSync(Zxid peer, Zxid through, Zxid committed, Zxid log_base, bool peer_logged, Zxid floor) {
  using Kind = SyncPlan::Kind;
  if (peer == through) return {Kind::kDiff, through, through, through};
  if (peer > through) {
    bool new_epoch_zxid = quorum::CounterOf(peer) == 0 && quorum::EpochOf(peer) > quorum::EpochOf(through);
    if (!new_epoch_zxid) return {Kind::kTrunc, through, through, through};
  } else if (peer >= log_base) {
    if (peer_logged) return {Kind::kDiff, through, peer, through};
    // (e << 32) names no txn: a ZooKeeper learner reports it after a SNAP or
    // DIFF of a leader with nothing yet proposed in epoch e, and may hold no
    // log to cut (LearnerHandler: isPeerNewEpochZxid -> DIFF, never TRUNC).
    // The txns after it are those after the largest zxid below it.
    if (quorum::CounterOf(peer) == 0) return {Kind::kDiff, through, floor, through};
    return {Kind::kTrunc, floor, floor, through};
  }
  return {Kind::kSnap, committed, committed, through};
}

std::vector<Outgoing> PlanPackets(const SyncPlan& plan, ConnId conn) {
  std::vector<Outgoing> out;
  Outgoing head;
  head.conn = conn;
  head.packet.zxid = plan.zxid;
  switch (plan.kind) {
    case SyncPlan::Kind::kDiff:
      head.packet.type = PacketType::kDiff;
      break;
    case SyncPlan::Kind::kTrunc:
      head.packet.type = PacketType::kTrunc;
      break;
    case SyncPlan::Kind::kSnap:
      head.kind = Outgoing::Kind::kSnap;
      head.packet.type = PacketType::kSnap;
      head.to = plan.zxid;
      break;
  }
  out.push_back(head);
  if (plan.diff_to > plan.diff_from) {
    Outgoing diff;
    diff.conn = conn;
    diff.kind = Outgoing::Kind::kDiff;
    diff.from = plan.diff_from;
    diff.to = plan.diff_to;
    out.push_back(diff);
  }
  return out;
}

const char* SyncKindName(SyncPlan::Kind kind) {
  switch (kind) {
    case SyncPlan::Kind::kDiff:
      return "DIFF";
    case SyncPlan::Kind::kTrunc:
      return "TRUNC";
    case SyncPlan::Kind::kSnap:
      return "SNAP";
  }
  return "?";
}

}  // namespace aviary::zab
