// ZooKeeper's snapshotSizeFactor rule on the leader (LearnerHandler
// .syncFollower with ZKDatabase.calculateTxnLogSizeLimit and its in-memory
// committed log): DiffSizeFloor turns the log files' sizes into the lowest
// learner zxid a DIFF from the files may serve, and the node sends SNAP to a
// learner below it unless it missed at most commitLogCount txns.
#include <gtest/gtest.h>

#include <optional>

#include "base/log.h"
#include "node_harness.h"
#include "zab/node.h"
#include "zab/payload.h"
#include "zab/sync_plan.h"

namespace aviary::zab {
namespace {

using namespace zabtest;  // NOLINT: the shared helpers of node_harness.h

constexpr int64_t kMiB = 1 << 20;

TEST(DiffSizeFloor, NoLimitWithoutASnapshotOrWithAZeroFactor) {
  const std::vector<LogFile> files = {{Z(1, 1), 64 * kMiB}, {Z(1, 100), 64 * kMiB}, {Z(1, 200), 64 * kMiB}};
  EXPECT_EQ(DiffSizeFloor(files, 0, 0.33), 0);                      // no snapshot: sizeLimit 0 is unlimited
  EXPECT_EQ(DiffSizeFloor(files, 100 * kMiB, 0.0), 0);              // (long)(size * 0) = 0: unlimited too
  EXPECT_EQ(DiffSizeFloor({}, 100 * kMiB, 0.33), 0);                // no log file
  EXPECT_EQ(DiffSizeFloor(files, 100 * kMiB, -1), kNoDiffFromLog);  // negative: txn log sync disabled
}

TEST(DiffSizeFloor, CountsTheFilesAfterTheOneTheDiffStartsIn) {
  // Files named 1:1, 1:100, 1:200 (10, 20, 30 bytes), any order.
  const std::vector<LogFile> files = {{Z(1, 200), 30}, {Z(1, 1), 10}, {Z(1, 100), 20}};
  // Limit (long)(100 * 0.3) = 30: starting in 1:100 measures 30 (ok), in 1:1 measures 50.
  // The iterator starts in 1:100 for a learner past 1:100 (the newest file named below it).
  EXPECT_EQ(DiffSizeFloor(files, 100, 0.3), Z(1, 100) + 1);
  // Limit 50: from the oldest file on.
  EXPECT_EQ(DiffSizeFloor(files, 100, 0.5), 0);
  // Limit 29: only within the newest file.
  EXPECT_EQ(DiffSizeFloor(files, 100, 0.29), Z(1, 200) + 1);
  // One file: whatever the limit, the DIFF reads only the file it starts in.
  EXPECT_EQ(DiffSizeFloor({{Z(1, 1), 64 * kMiB}}, 1, 0.33), 0);
}

TEST(SyncPlan, DiffNotAllowedIsASnap) {
  SyncPlan p = PlanSync(Z(1, 2), Z(1, 9), Z(1, 9), Z(1, 1), true, Z(1, 2), false);
  EXPECT_EQ(p.kind, SyncPlan::Kind::kSnap);
  EXPECT_EQ(p.zxid, Z(1, 9));
  // Up to date or ahead is not a DIFF from the log: the rule does not apply.
  EXPECT_EQ(PlanSync(Z(1, 9), Z(1, 9), Z(1, 9), Z(1, 1), true, Z(1, 9), false).kind, SyncPlan::Kind::kDiff);
  EXPECT_EQ(PlanSync(Z(1, 11), Z(1, 9), Z(1, 9), Z(1, 1), false, Z(1, 9), false).kind, SyncPlan::Kind::kTrunc);
}

// Leader 3 holding 1:1..1:600 in its log; learner 2 at `peer` joins: the
// first packet it is sent (DIFF, TRUNC or SNAP).
std::optional<Outgoing::Kind> FirstSync(Zxid peer, Zxid diff_floor, size_t commit_log_count,
                                        PacketType* type = nullptr) {
  Config c = Three(3);
  c.commit_log_count = commit_log_count;
  Bootstrap b{1, 1, Z(1, 600), 0, {}};
  for (int64_t i = 1; i <= 600; ++i) b.logged.push_back(Z(1, i));
  Node node(c, b);
  node.Start(0);
  node.SetDiffFloor(diff_floor);
  ElectSelf(node, Z(1, 600), 1);
  if (node.role() != Role::kLeading) return std::nullopt;
  Settle(node);
  node.OnLearnerConnected(12);
  node.OnLearnerPacket(12, P(PacketType::kFollowerInfo, peer, EncodeLearnerInfo({2, kProtocolVersion, 0})));
  Settle(node);
  node.OnLearnerPacket(12, P(PacketType::kAckEpoch, peer, EncodeInt32(1)));
  Ready r = Settle(node);
  for (const Outgoing& o : r.packets) {
    if (o.conn != 12) continue;
    if (type != nullptr) *type = o.packet.type;
    return o.kind;
  }
  return std::nullopt;
}

TEST(SyncSizeRule, LearnerBelowTheFloorGetsASnapUnlessWithinTheCommittedLog) {
  log::SetLevel(log::kError);
  PacketType t{};
  // No floor: a DIFF from the log, however far back.
  EXPECT_EQ(FirstSync(Z(1, 50), 0, 500, &t), Outgoing::Kind::kPacket);
  EXPECT_EQ(t, PacketType::kDiff);
  // Below the floor and 550 txns behind (> commitLogCount 500): SNAP.
  EXPECT_EQ(FirstSync(Z(1, 50), Z(1, 300), 500), Outgoing::Kind::kSnap);
  // At or above the floor: DIFF.
  EXPECT_EQ(FirstSync(Z(1, 300), Z(1, 300), 500, &t), Outgoing::Kind::kPacket);
  EXPECT_EQ(t, PacketType::kDiff);
  // Below the floor but within the last commitLogCount txns: DIFF anyway.
  EXPECT_EQ(FirstSync(Z(1, 100), Z(1, 300), 500, &t), Outgoing::Kind::kPacket);
  EXPECT_EQ(t, PacketType::kDiff);
  EXPECT_EQ(FirstSync(Z(1, 99), Z(1, 300), 500), Outgoing::Kind::kSnap);  // 501 behind
  EXPECT_EQ(FirstSync(Z(1, 99), Z(1, 300), 501, &t), Outgoing::Kind::kPacket);
  // A negative factor: nothing from the log files beyond the committed log.
  EXPECT_EQ(FirstSync(Z(1, 590), kNoDiffFromLog, 500, &t), Outgoing::Kind::kPacket);
  EXPECT_EQ(t, PacketType::kDiff);
  EXPECT_EQ(FirstSync(Z(1, 590), kNoDiffFromLog, 5), Outgoing::Kind::kSnap);
}

}  // namespace
}  // namespace aviary::zab
