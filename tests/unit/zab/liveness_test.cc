// A learner's leader deadline (syncLimit x tickTime once synced): any packet
// from the leader renews it (an observer's INFORMs as much as PINGs), from
// the time the packet is handed over, not from the host's last Tick
// (ZooKeeper's Learner: a socket read timeout). A host busy for a while
// (CPU starvation, a slow disk) sets the time before handing over what
// arrived meanwhile (Node::SetTime), and the leader is not declared silent
// while its packets stream.
#include <gtest/gtest.h>

#include "base/log.h"
#include "node_harness.h"
#include "zab/node.h"
#include "zab/payload.h"

namespace aviary::zab {
namespace {

using namespace zabtest;  // NOLINT: the shared helpers of node_harness.h

constexpr int64_t kTickMs = 200;
constexpr int64_t kSyncLimit = 5;  // 1 s, as the ensemble tests' zoo.cfg
constexpr ConnId kConn = 7;

// Server `self` of voters 1-3 and observer 4, synced with leader 3 (epoch 2)
// at time 0 and broadcasting.
class LivenessTest : public ::testing::TestWithParam<ServerId> {
 protected:
  void SetUp() override {
    log::SetLevel(log::kError);
    Config c;
    c.self = GetParam();
    c.members = {{1, false}, {2, false}, {3, false}, {4, true}};
    c.tick_ms = kTickMs;
    c.sync_limit = kSyncLimit;
    node_ = std::make_unique<Node>(c, Bootstrap{1, 1, 0, 0, {}});
    node_->Start(0);
    node_->TakeReady();
    Ready r = LearnLeader3(*node_);
    ASSERT_EQ(r.connect_leader, 3);
    node_->OnLeaderConnected(kConn);
    node_->OnLeaderPacket(kConn, P(PacketType::kLeaderInfo, Z(2, 0), EncodeInt32(kProtocolVersion)));
    node_->OnLeaderPacket(kConn, P(PacketType::kDiff, Z(1, 0)));
    node_->OnLeaderPacket(kConn, P(PacketType::kNewLeader, Z(2, 0)));
    node_->TakeReady();
    node_->OnLeaderPacket(kConn, P(PacketType::kUpToDate, 0));
    node_->TakeReady();
    ASSERT_TRUE(node_->serving());
    learning_ = GetParam() == 4 ? Role::kObserving : Role::kFollowing;
    ASSERT_EQ(node_->role(), learning_);
  }

  // A txn as the leader streams it: INFORM to an observer, PROPOSAL +
  // COMMIT to a follower.
  void Stream(Zxid zxid) {
    if (learning_ == Role::kObserving) {
      node_->OnLeaderPacket(kConn, P(PacketType::kInform, zxid, "t"));
    } else {
      node_->OnLeaderPacket(kConn, P(PacketType::kProposal, zxid, "t"));
      node_->OnLeaderPacket(kConn, P(PacketType::kCommit, zxid));
    }
    node_->TakeReady();
  }

  std::unique_ptr<Node> node_;
  Role learning_ = Role::kLooking;
};

TEST_P(LivenessTest, TxnsWithoutPingsKeepTheLeaderAlive) {
  const int64_t limit_ms = kSyncLimit * kTickMs;
  int64_t t = 0;
  for (int i = 1; i <= 40; ++i) {  // 4 s of txns, 100 ms apart, no PING
    t += 100;
    node_->Tick(t);
    Stream(Z(2, i));
    ASSERT_EQ(node_->role(), learning_) << "at " << t << " ms";
  }
  node_->Tick(t + limit_ms - 1);
  EXPECT_EQ(node_->role(), learning_);
  node_->Tick(t + limit_ms);  // then silence: lost at the limit
  EXPECT_EQ(node_->role(), Role::kLooking);
}

TEST_P(LivenessTest, ADeadlineCountsFromThePacketsArrivalNotTheLastTick) {
  // The host was busy (no Tick since 0) while txns arrived; it hands each
  // over at the time it takes it.
  for (int i = 1; i <= 6; ++i) {
    node_->SetTime(i * 250);
    Stream(Z(2, i));
  }
  node_->Tick(1500 + kSyncLimit * kTickMs - 1);  // 1 s after the last one, less 1 ms
  EXPECT_EQ(node_->role(), learning_);
  node_->Tick(1500 + kSyncLimit * kTickMs);
  EXPECT_EQ(node_->role(), Role::kLooking);
}

TEST_P(LivenessTest, SetTimeNeverMovesTheClockBackNorFiresATimer) {
  node_->SetTime(5000);  // far past the deadline: only a Tick may act on it
  EXPECT_EQ(node_->role(), learning_);
  node_->SetTime(10);
  Stream(Z(2, 1));  // renews from 5000, not from 10
  node_->Tick(5000 + kSyncLimit * kTickMs - 1);
  EXPECT_EQ(node_->role(), learning_);
}

INSTANTIATE_TEST_SUITE_P(FollowerAndObserver, LivenessTest, ::testing::Values(ServerId{1}, ServerId{4}),
                         [](const auto& info) { return info.param == 4 ? "Observer" : "Follower"; });

}  // namespace
}  // namespace aviary::zab
