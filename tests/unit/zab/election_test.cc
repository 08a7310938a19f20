// The election's early end (Election::OnPeerChannel): a round whose quorum
// agrees ends at once when every other voter agrees too or had its election
// channel go down during the round; a live voter that has not agreed is
// still waited for (finalizeWait), and a better vote is still taken.
#include "zab/election.h"

#include <gtest/gtest.h>

#include "base/log.h"
#include "node_harness.h"
#include "zab/node.h"

namespace aviary::zab {
namespace {

using zabtest::Z;

Config Voters(ServerId self, int voters) {
  Config c;
  c.self = self;
  for (int i = 1; i <= voters; ++i) c.members.push_back({i, false});
  return c;
}

Notification Looking(ServerId leader, Zxid zxid, int64_t round = 1) {
  Notification n;
  n.leader = leader;
  n.zxid = zxid;
  n.election_epoch = round;
  n.peer_epoch = 1;
  return n;
}

class EarlyEnd : public ::testing::Test {
 protected:
  // Server 3 of 3, the best candidate (zxid 0x100000005).
  void SetUp() override { e_.Start(0, Z(1, 5), 1, &out_); }
  Config c_ = Voters(3, 3);
  Election e_{c_};
  std::vector<NotificationOut> out_;
};

TEST_F(EarlyEnd, ADeadVoterIsNotWaitedFor) {
  EXPECT_FALSE(e_.OnPeerChannel(1, false)) << "no quorum yet";
  auto v = e_.OnNotification(2, Looking(3, Z(1, 5)), 10, &out_);
  ASSERT_TRUE(v) << "the only missing voter is down: nothing to wait for";
  EXPECT_EQ(v->leader, 3);
  EXPECT_EQ(v->zxid, Z(1, 5));
}

TEST_F(EarlyEnd, AChannelGoingDownWhileFinalizingEndsTheWait) {
  EXPECT_FALSE(e_.OnNotification(2, Looking(3, Z(1, 5)), 10, &out_));
  EXPECT_FALSE(e_.OnTick(20, &out_));
  auto v = e_.OnPeerChannel(1, false);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->leader, 3);
}

TEST_F(EarlyEnd, ALiveVoterIsWaitedForTheWholeFinalizeWait) {
  EXPECT_FALSE(e_.OnPeerChannel(1, false));
  EXPECT_FALSE(e_.OnPeerChannel(1, true)) << "reconnected: alive";
  EXPECT_FALSE(e_.OnNotification(2, Looking(3, Z(1, 5)), 10, &out_));
  EXPECT_FALSE(e_.OnTick(10 + c_.finalize_wait_ms - 1, &out_));
  auto v = e_.OnTick(10 + c_.finalize_wait_ms, &out_);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->leader, 3);
}

TEST_F(EarlyEnd, AChannelDownInAnEarlierRoundDoesNotCount) {
  EXPECT_FALSE(e_.OnPeerChannel(1, false));
  e_.Start(100, Z(1, 5), 1, &out_);  // a new round (logical clock 2)
  EXPECT_FALSE(e_.OnNotification(2, Looking(3, Z(1, 5), 2), 110, &out_));
  EXPECT_TRUE(e_.OnTick(110 + c_.finalize_wait_ms, &out_));
}

TEST_F(EarlyEnd, AVoteFromADownVoterRevivesItAndItsAgreementEndsTheRound) {
  EXPECT_FALSE(e_.OnPeerChannel(1, false));
  EXPECT_FALSE(e_.OnNotification(1, Looking(1, Z(1, 2)), 5, &out_)) << "worse: 1 will come round";
  EXPECT_FALSE(e_.OnNotification(2, Looking(3, Z(1, 5)), 10, &out_)) << "1 is alive and disagrees";
  auto v = e_.OnNotification(1, Looking(3, Z(1, 5)), 15, &out_);
  ASSERT_TRUE(v) << "every voter agrees";
  EXPECT_EQ(v->leader, 3);
}

TEST_F(EarlyEnd, DownOfANonVoterOrOfOurselvesIsIgnored) {
  EXPECT_FALSE(e_.OnPeerChannel(3, false));
  EXPECT_FALSE(e_.OnPeerChannel(9, false));
  EXPECT_FALSE(e_.OnNotification(2, Looking(3, Z(1, 5)), 10, &out_));
}

TEST(Election, ABetterVoteIsTakenBeforeAnEarlyEnd) {
  Config c = Voters(2, 3);
  Election e(c);
  std::vector<NotificationOut> out;
  e.Start(0, Z(1, 5), 1, &out);
  EXPECT_FALSE(e.OnNotification(1, Looking(2, Z(1, 5)), 5, &out)) << "3 is alive: finalizing";
  EXPECT_FALSE(e.OnNotification(3, Looking(3, Z(1, 6)), 8, &out)) << "better: adopted";
  EXPECT_EQ(e.proposal().leader, 3);
  auto v = e.OnPeerChannel(1, false);  // 1 (still voting for 2) dies
  ASSERT_TRUE(v);
  EXPECT_EQ(v->leader, 3);
  EXPECT_EQ(v->zxid, Z(1, 6));
}

TEST(Election, FiveVotersEndOnceTheLiveOnesAllAgree) {
  Config c = Voters(5, 5);
  Election e(c);
  std::vector<NotificationOut> out;
  e.Start(0, Z(1, 5), 1, &out);
  EXPECT_FALSE(e.OnPeerChannel(1, false));
  EXPECT_FALSE(e.OnNotification(2, Looking(5, Z(1, 5)), 5, &out));
  EXPECT_FALSE(e.OnNotification(3, Looking(5, Z(1, 5)), 6, &out)) << "quorum, but 4 lives";
  auto v = e.OnNotification(4, Looking(5, Z(1, 5)), 7, &out);
  ASSERT_TRUE(v) << "4's agreement in the finalize window is recorded";
  EXPECT_EQ(v->leader, 5);
}

TEST(Election, NodeLeadsAtOnceWhenTheOtherVoterIsDown) {
  log::SetLevel(log::kError);
  Node node(zabtest::Three(3), Bootstrap{});
  node.Start(0);
  node.TakeReady();
  Notification n = Looking(3, 0, 1);
  n.peer_epoch = 0;
  node.OnNotification(2, n);
  EXPECT_EQ(node.role(), Role::kLooking) << "1 has not voted and may be alive";
  node.OnPeerChannel(1, false);
  EXPECT_EQ(node.role(), Role::kLeading) << "no Tick: finalizeWait was not waited";
}

}  // namespace
}  // namespace aviary::zab
