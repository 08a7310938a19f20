#include "zab/sync_plan.h"

#include <algorithm>

namespace aviary::zab {

SyncPlan PlanSync(Zxid peer, Zxid through, Zxid committed, Zxid log_base, bool peer_logged, Zxid floor,
                  bool diff_allowed) {
  using Kind = SyncPlan::Kind;
  if (peer == through) return {Kind::kDiff, through, through, through};
  if (peer > through) {
    bool new_epoch_zxid = quorum::CounterOf(peer) == 0 && quorum::EpochOf(peer) > quorum::EpochOf(through);
    if (!new_epoch_zxid) return {Kind::kTrunc, through, through, through};
  } else if (peer >= log_base && diff_allowed) {
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

Zxid DiffSizeFloor(std::vector<LogFile> files, int64_t snapshot_bytes, double factor) {
  if (factor < 0) return kNoDiffFromLog;
  const auto limit = static_cast<int64_t>(static_cast<double>(snapshot_bytes) * factor);
  if (limit <= 0 || files.empty()) return 0;
  std::sort(files.begin(), files.end(), [](const LogFile& a, const LogFile& b) { return a.first < b.first; });
  // Starting in file k, the bytes measured are those of files k+1..n-1.
  int64_t after = 0;
  size_t k = files.size() - 1;
  while (k > 0 && after + files[k].bytes <= limit) {
    after += files[k].bytes;
    --k;
  }
  // Starting in file k is within the limit; so is any file after it. The
  // iterator starts in file k for p in (files[k].first, files[k+1].first].
  return k == 0 ? 0 : files[k].first + 1;
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
