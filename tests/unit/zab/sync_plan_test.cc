// The leader's DIFF / TRUNC / SNAP decision (LearnerHandler.syncFollower)
// and the election's vote order, case by case.
#include "zab/sync_plan.h"

#include <gtest/gtest.h>

#include "zab/election.h"
#include "zab/payload.h"

namespace aviary::zab {
namespace {

constexpr Zxid Z(int64_t epoch, int64_t counter) { return quorum::MakeZxid(epoch, counter); }

TEST(SyncPlan, PeerUpToDateGetsEmptyDiff) {
  SyncPlan p = PlanSync(Z(1, 5), Z(1, 5), Z(1, 5), 0, true, Z(1, 5));
  EXPECT_EQ(p.kind, SyncPlan::Kind::kDiff);
  EXPECT_EQ(p.zxid, Z(1, 5));
  EXPECT_EQ(p.diff_from, p.diff_to);
}

TEST(SyncPlan, PeerBehindWithinLogGetsDiffRange) {
  SyncPlan p = PlanSync(Z(1, 2), Z(2, 3), Z(2, 3), Z(1, 1), true, Z(1, 2));
  EXPECT_EQ(p.kind, SyncPlan::Kind::kDiff);
  EXPECT_EQ(p.zxid, Z(2, 3));
  EXPECT_EQ(p.diff_from, Z(1, 2));
  EXPECT_EQ(p.diff_to, Z(2, 3));
}

TEST(SyncPlan, PeerAheadGetsTrunc) {
  SyncPlan p = PlanSync(Z(1, 9), Z(1, 7), Z(1, 7), 0, false, Z(1, 7));
  EXPECT_EQ(p.kind, SyncPlan::Kind::kTrunc);
  EXPECT_EQ(p.zxid, Z(1, 7));
  EXPECT_EQ(p.diff_from, p.diff_to);
}

TEST(SyncPlan, PeerWithTxnWeLackGetsTruncThenDiff) {
  // Peer logged 1:6, which never committed; we hold 1:5 then 2:1..2:4.
  SyncPlan p = PlanSync(Z(1, 6), Z(2, 4), Z(2, 4), 0, false, Z(1, 5));
  EXPECT_EQ(p.kind, SyncPlan::Kind::kTrunc);
  EXPECT_EQ(p.zxid, Z(1, 5));
  EXPECT_EQ(p.diff_from, Z(1, 5));
  EXPECT_EQ(p.diff_to, Z(2, 4));
}

TEST(SyncPlan, NewEpochZxidWithinHistoryGetsDiffNotTrunc) {
  // A ZooKeeper peer at (2<<32) (synced by a leader of epoch 2 before it
  // proposed anything) holds no txn named so and maybe no log to cut:
  // ZooKeeper's leader sends DIFF and the txns after it (isPeerNewEpochZxid).
  SyncPlan p = PlanSync(Z(2, 0), Z(3, 2), Z(3, 2), Z(1, 1), false, Z(1, 9));
  EXPECT_EQ(p.kind, SyncPlan::Kind::kDiff);
  EXPECT_EQ(p.zxid, Z(3, 2));
  EXPECT_EQ(p.diff_from, Z(1, 9));  // the txns after (1, 9) are those after (2, 0)
  EXPECT_EQ(p.diff_to, Z(3, 2));
}

TEST(SyncPlan, PeerBeforeLogGetsSnapThenDiffOfUncommittedHistory) {
  SyncPlan p = PlanSync(Z(1, 1), Z(1, 90), Z(1, 80), Z(1, 50), false, Z(1, 50));
  EXPECT_EQ(p.kind, SyncPlan::Kind::kSnap);
  EXPECT_EQ(p.zxid, Z(1, 80));
  EXPECT_EQ(p.diff_from, Z(1, 80));
  EXPECT_EQ(p.diff_to, Z(1, 90));
  std::vector<Outgoing> out = PlanPackets(p, 7);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].kind, Outgoing::Kind::kSnap);
  EXPECT_EQ(out[1].kind, Outgoing::Kind::kDiff);
}

TEST(SyncPlan, NewEpochZxidAheadGetsSnap) {
  // A ZooKeeper peer reporting (e<<32) of a later epoch: isPeerNewEpochZxid.
  SyncPlan p = PlanSync(Z(3, 0), Z(2, 4), Z(2, 4), 0, false, Z(2, 4));
  EXPECT_EQ(p.kind, SyncPlan::Kind::kSnap);
}

TEST(Payload, LearnerInfoRoundTripsAndRejectsShortInput) {
  quorum::LearnerInfo info{3, kProtocolVersion, 0x1234};
  std::string bytes = EncodeLearnerInfo(info);
  ASSERT_EQ(bytes.size(), 20u);
  EXPECT_EQ(DecodeLearnerInfo(bytes), info);
  EXPECT_FALSE(DecodeLearnerInfo("abc"));
  EXPECT_EQ(DecodeInt32(EncodeInt32(-1)), -1);
  EXPECT_FALSE(DecodeInt32("ab"));
}

Config Three() {
  Config c;
  c.self = 1;
  c.members = {{1, false}, {2, false}, {3, false}, {4, true}};
  return c;
}

TEST(Election, HigherEpochThenZxidThenIdWins) {
  Config c = Three();
  Election e(c);
  std::vector<NotificationOut> out;
  e.Start(0, Z(1, 5), 1, &out);
  EXPECT_EQ(out.size(), 2u);  // to voters 2 and 3, not the observer
  Notification n;
  n.leader = 2;
  n.zxid = Z(1, 4);
  n.peer_epoch = 2;  // higher epoch beats higher zxid
  n.election_epoch = 1;
  e.OnNotification(2, n, 1, &out);
  EXPECT_EQ(e.proposal().leader, 2);
  n.leader = 3;
  n.zxid = Z(1, 4);
  e.OnNotification(3, n, 2, &out);  // same epoch and zxid: higher id
  EXPECT_EQ(e.proposal().leader, 3);
}

TEST(Election, ObserverCannotBeProposedAndQuorumIsOfVoters) {
  Config c = Three();
  Election e(c);
  std::vector<NotificationOut> out;
  e.Start(0, 0, 0, &out);
  Notification n;
  n.leader = 4;  // the observer
  n.zxid = Z(9, 9);
  n.peer_epoch = 9;
  n.election_epoch = 1;
  e.OnNotification(2, n, 1, &out);
  EXPECT_EQ(e.proposal().leader, 1);
  EXPECT_FALSE(e.HasQuorum({1, 4}));
  EXPECT_TRUE(e.HasQuorum({1, 2}));
}

TEST(Election, EndsAfterFinalizeWaitWithAQuorum) {
  Config c = Three();
  c.self = 3;
  Election e(c);
  std::vector<NotificationOut> out;
  e.Start(0, 0, 0, &out);
  Notification n;
  n.leader = 3;
  n.election_epoch = 1;
  n.peer_epoch = 0;
  EXPECT_FALSE(e.OnNotification(2, n, 10, &out));
  EXPECT_FALSE(e.OnTick(10 + c.finalize_wait_ms - 1, &out));
  auto v = e.OnTick(10 + c.finalize_wait_ms, &out);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->leader, 3);
}

}  // namespace
}  // namespace aviary::zab
