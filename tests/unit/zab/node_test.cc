// zab::Node driven by hand, one input at a time: what a follower may send
// when (no ACK before the fsync that covers it; the epoch persisted before
// NEWLEADER's ACK), and how bad peer input is refused without a crash.
#include "zab/node.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "base/log.h"
#include "node_harness.h"
#include "zab/payload.h"

namespace aviary::zab {
namespace {

using namespace zabtest;  // NOLINT: the shared helpers of node_harness.h

// A node that joined leader 3 (epoch 2 after LEADERINFO) and is in sync.
class FollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::SetLevel(log::kError);
    node_ = std::make_unique<Node>(Three(1), Bootstrap{1, 1, 0, 0, {}});
    node_->Start(0);
    node_->TakeReady();
    Ready r = LearnLeader3(*node_);
    ASSERT_EQ(r.connect_leader, 3);
    ASSERT_EQ(node_->role(), Role::kFollowing);
    node_->OnLeaderConnected(7);
    r = node_->TakeReady();
    ASSERT_EQ(Types(r), std::vector<PacketType>{PacketType::kFollowerInfo});
    EXPECT_EQ(r.packets[0].packet.zxid, Z(1, 0));
    EXPECT_EQ(DecodeLearnerInfo(r.packets[0].packet.data)->server_id, 1);
    node_->OnLeaderPacket(7, P(PacketType::kLeaderInfo, Z(2, 0), EncodeInt32(kProtocolVersion)));
    EXPECT_FALSE(node_->leader_is_aviary());  // ZooKeeper's LEADERINFO: the version only
    r = node_->TakeReady();
    EXPECT_EQ(r.accepted_epoch, 2);  // persisted before ACKEPOCH leaves
    ASSERT_EQ(Types(r), std::vector<PacketType>{PacketType::kAckEpoch});
    EXPECT_EQ(DecodeInt32(r.packets[0].packet.data), 1);  // our currentEpoch
  }
  std::unique_ptr<Node> node_;
};

TEST_F(FollowerTest, AcksNewLeaderOnlyAfterItsLogIsDurable) {
  node_->OnLeaderPacket(7, P(PacketType::kDiff, Z(1, 0)));
  node_->OnLeaderPacket(7, P(PacketType::kProposal, Z(2, 1), "t1"));
  node_->OnLeaderPacket(7, P(PacketType::kCommit, Z(2, 1)));
  node_->OnLeaderPacket(7, P(PacketType::kNewLeader, Z(2, 0)));
  Ready r = node_->TakeReady();
  EXPECT_TRUE(r.packets.empty()) << "no ACK before the fsync";
  EXPECT_FALSE(r.current_epoch);
  ASSERT_EQ(r.storage.size(), 2u);
  EXPECT_EQ(r.storage[0].kind, StorageOp::Kind::kAppend);
  EXPECT_EQ(r.storage[1].kind, StorageOp::Kind::kFsync);
  EXPECT_FALSE(r.commit_through) << "nothing applied before UPTODATE";
  node_->OnFsyncDone(r.storage[1].token);
  r = node_->TakeReady();
  EXPECT_EQ(r.current_epoch, 2);
  ASSERT_EQ(Types(r), (std::vector<PacketType>{PacketType::kAck, PacketType::kAck}));
  EXPECT_EQ(r.packets[0].packet.zxid, Z(2, 0));
  EXPECT_EQ(r.packets[1].packet.zxid, Z(2, 1));
  node_->OnLeaderPacket(7, P(PacketType::kUpToDate, 0));
  r = node_->TakeReady();
  EXPECT_EQ(r.commit_through, Z(2, 1));
  EXPECT_TRUE(node_->serving());
}

TEST_F(FollowerTest, BroadcastAckWaitsForFsyncAndOneFsyncCoversABatch) {
  node_->OnLeaderPacket(7, P(PacketType::kDiff, Z(1, 0)));
  node_->OnLeaderPacket(7, P(PacketType::kNewLeader, Z(2, 0)));
  node_->TakeReady();
  node_->OnLeaderPacket(7, P(PacketType::kUpToDate, 0));
  node_->TakeReady();
  node_->OnLeaderPacket(7, P(PacketType::kProposal, Z(2, 1), "a"));
  node_->OnLeaderPacket(7, P(PacketType::kProposal, Z(2, 2), "b"));
  Ready r = node_->TakeReady();
  EXPECT_TRUE(r.packets.empty());
  ASSERT_EQ(r.storage.size(), 3u);  // two appends, one fsync
  node_->OnLeaderPacket(7, P(PacketType::kCommit, Z(2, 1)));
  EXPECT_EQ(node_->TakeReady().commit_through, Z(2, 1));  // logged: may apply
  node_->OnFsyncDone(r.storage[2].token);
  r = node_->TakeReady();
  ASSERT_EQ(Types(r), (std::vector<PacketType>{PacketType::kAck, PacketType::kAck}));
}

// ZooKeeper's LearnerHandler reads the packet after NEWLEADER as its ACK:
// a PING arriving while the NEWLEADER fsync runs is not answered (as
// Learner.syncWithLeader), only PINGs after UPTODATE are.
TEST_F(FollowerTest, NoPingReplyBeforeUpToDate) {
  node_->OnLeaderPacket(7, P(PacketType::kDiff, Z(1, 0)));
  node_->OnLeaderPacket(7, P(PacketType::kProposal, Z(2, 1), "t1"));
  node_->OnLeaderPacket(7, P(PacketType::kNewLeader, Z(2, 0)));
  Ready r = node_->TakeReady();
  ASSERT_EQ(r.storage.back().kind, StorageOp::Kind::kFsync);
  node_->OnLeaderPacket(7, P(PacketType::kPing, Z(2, 1)));
  EXPECT_TRUE(node_->TakeReady().packets.empty()) << "a PING answered before the NEWLEADER ACK";
  node_->OnFsyncDone(r.storage.back().token);
  r = node_->TakeReady();
  ASSERT_FALSE(r.packets.empty());
  EXPECT_EQ(r.packets[0].packet.type, PacketType::kAck);
  EXPECT_EQ(r.packets[0].packet.zxid, Z(2, 0));
  node_->OnLeaderPacket(7, P(PacketType::kPing, Z(2, 1)));
  EXPECT_TRUE(node_->TakeReady().packets.empty());
  node_->OnLeaderPacket(7, P(PacketType::kUpToDate, 0));
  node_->TakeReady();
  node_->OnLeaderPacket(7, P(PacketType::kPing, Z(2, 1)));
  r = node_->TakeReady();
  ASSERT_EQ(Types(r), std::vector<PacketType>{PacketType::kPing});
}

// A ZooKeeper leader's fuzzy SNAP: the proposals it queued before it
// serialized its tree can be at or below the SNAP's zxid (the tree's last
// applied). They are held by the snapshot: not logged again, but ACKed
// after NEWLEADER as ZooKeeper's learner does (its leader drops a learner
// that leaves a proposal unACKed past syncLimit); the next one follows on.
TEST_F(FollowerTest, ProposalsAtOrBelowAFuzzySnapAreAckedNotLogged) {
  node_->OnLeaderPacket(7, P(PacketType::kSnap, Z(1, 5), "snapshot"));
  node_->OnLeaderPacket(7, P(PacketType::kProposal, Z(1, 4), "t4"));
  node_->OnLeaderPacket(7, P(PacketType::kProposal, Z(1, 5), "t5"));
  node_->OnLeaderPacket(7, P(PacketType::kProposal, Z(1, 6), "t6"));
  node_->OnLeaderPacket(7, P(PacketType::kCommit, Z(1, 4)));
  node_->OnLeaderPacket(7, P(PacketType::kCommit, Z(1, 5)));
  node_->OnLeaderPacket(7, P(PacketType::kNewLeader, Z(2, 0)));
  ASSERT_EQ(node_->role(), Role::kFollowing);
  Ready r = node_->TakeReady();
  ASSERT_EQ(r.storage.size(), 3u);
  EXPECT_EQ(r.storage[0].kind, StorageOp::Kind::kInstallSnapshot);
  EXPECT_EQ(r.storage[1].kind, StorageOp::Kind::kAppend);  // t6 only
  EXPECT_EQ(r.storage[1].zxid, Z(1, 6));
  EXPECT_EQ(r.storage[2].kind, StorageOp::Kind::kFsync);
  EXPECT_TRUE(r.packets.empty());
  node_->OnFsyncDone(r.storage[2].token);
  r = node_->TakeReady();
  ASSERT_EQ(Types(r),
            (std::vector<PacketType>{PacketType::kAck, PacketType::kAck, PacketType::kAck, PacketType::kAck}));
  EXPECT_EQ(r.packets[0].packet.zxid, Z(2, 0));
  EXPECT_EQ(r.packets[1].packet.zxid, Z(1, 4));
  EXPECT_EQ(r.packets[2].packet.zxid, Z(1, 5));
  EXPECT_EQ(r.packets[3].packet.zxid, Z(1, 6));
  node_->OnLeaderPacket(7, P(PacketType::kUpToDate, 0));
  r = node_->TakeReady();
  EXPECT_TRUE(node_->serving());
  // Past the snapshot a proposal at or below what we hold is refused again.
  node_->OnLeaderPacket(7, P(PacketType::kProposal, Z(1, 6), "again"));
  EXPECT_EQ(node_->role(), Role::kLooking);
}

TEST_F(FollowerTest, GapInProposalsSendsUsBackToLooking) {
  node_->OnLeaderPacket(7, P(PacketType::kDiff, Z(1, 0)));
  node_->OnLeaderPacket(7, P(PacketType::kProposal, Z(2, 1), "a"));
  node_->OnLeaderPacket(7, P(PacketType::kProposal, Z(2, 3), "c"));
  EXPECT_EQ(node_->role(), Role::kLooking);
  Ready r = node_->TakeReady();
  EXPECT_EQ(r.close, std::vector<ConnId>{7});
}

TEST_F(FollowerTest, TruncToAZxidWeLackIsRefused) {
  node_->OnLeaderPacket(7, P(PacketType::kTrunc, Z(1, 5)));
  EXPECT_EQ(node_->role(), Role::kLooking);
}

TEST_F(FollowerTest, CommitOfATxnWeDoNotHoldIsRefused) {
  node_->OnLeaderPacket(7, P(PacketType::kDiff, Z(1, 0)));
  node_->OnLeaderPacket(7, P(PacketType::kCommit, Z(2, 9)));
  EXPECT_EQ(node_->role(), Role::kLooking);
}

TEST(Leader, MalformedFollowerInfoClosesOnlyThatConnection) {
  log::SetLevel(log::kError);
  Node node(Three(3), Bootstrap{});
  node.Start(0);
  ElectSelf(node);  // a quorum (2, 3) votes for 3
  ASSERT_EQ(node.role(), Role::kLeading);
  node.TakeReady();
  node.OnLearnerConnected(11);
  node.OnLearnerPacket(11, P(PacketType::kFollowerInfo, 0, "xx"));
  Ready r = node.TakeReady();
  EXPECT_EQ(r.close, std::vector<ConnId>{11});
  EXPECT_EQ(node.role(), Role::kLeading);
  node.OnLearnerConnected(12);  // an observer claiming a voter's id is refused too
  node.OnLearnerPacket(12, P(PacketType::kObserverInfo, 0, EncodeLearnerInfo({2, kProtocolVersion, 0})));
  EXPECT_EQ(node.TakeReady().close, std::vector<ConnId>{12});
  node.OnLearnerConnected(13);
  node.OnLearnerPacket(13, P(PacketType::kFollowerInfo, Z(0, 0), EncodeLearnerInfo({2, kProtocolVersion, 0})));
  r = node.TakeReady();
  EXPECT_EQ(r.accepted_epoch, 1);  // quorum {2, 3}: epoch decided
  ASSERT_EQ(Types(r), std::vector<PacketType>{PacketType::kLeaderInfo});
  EXPECT_EQ(r.packets[0].packet.zxid, Z(1, 0));
  EXPECT_EQ(node.Propose(node.NextZxid(), "x"), ProposeStatus::kNotLeader);  // not broadcasting yet
}

// A learner that connects while we are still LOOKING (it decided first) is
// held with its FOLLOWERINFO and served once we lead, not closed: closing
// it sent ZooKeeper followers (and ours) back to LOOKING, and the election
// could loop. Parked connections past initLimit are closed.
TEST(Leader, LearnerConnectingDuringTheElectionIsAdoptedWhenWeLead) {
  log::SetLevel(log::kError);
  Node node(Three(3), Bootstrap{});
  node.Start(0);
  node.TakeReady();
  node.OnLearnerConnected(11);
  node.OnLearnerPacket(11, P(PacketType::kFollowerInfo, Z(0, 0), EncodeLearnerInfo({2, kProtocolVersion, 0})));
  node.OnLearnerConnected(12);  // stays silent: closed after initLimit
  Ready r = node.TakeReady();
  EXPECT_TRUE(r.close.empty());
  EXPECT_TRUE(r.packets.empty());
  ElectSelf(node);
  ASSERT_EQ(node.role(), Role::kLeading);
  r = node.TakeReady();
  EXPECT_TRUE(r.close.empty());
  ASSERT_EQ(Types(r), std::vector<PacketType>{PacketType::kLeaderInfo});  // quorum {2, 3}: the epoch is decided
  EXPECT_EQ(r.packets[0].conn, 11);
  // The protocol version first (all a ZooKeeper learner reads), then our mark.
  EXPECT_EQ(DecodeInt32(r.packets[0].packet.data), kProtocolVersion);
  EXPECT_TRUE(LeaderInfoFromAviary(r.packets[0].packet.data));
  EXPECT_FALSE(LeaderInfoFromAviary(EncodeInt32(kProtocolVersion)));
}

TEST(Leader, ParkedLearnersAreClosedWhenWeFollowOrAfterInitLimit) {
  log::SetLevel(log::kError);
  Config c = Three(1);
  c.tick_ms = 100;
  c.init_limit = 5;
  Node node(c, Bootstrap{});
  node.Start(0);
  node.TakeReady();
  node.OnLearnerConnected(11);
  node.Tick(400);
  EXPECT_TRUE(node.TakeReady().close.empty());
  node.Tick(600);
  EXPECT_EQ(node.TakeReady().close, std::vector<ConnId>{11});
  node.OnLearnerConnected(12);
  node.OnLearnerPacket(12, P(PacketType::kFollowerInfo, 0, EncodeLearnerInfo({2, kProtocolVersion, 0})));
  node.OnLearnerPacket(12, P(PacketType::kPing, 0));  // only the registration may come first
  EXPECT_EQ(node.TakeReady().close, std::vector<ConnId>{12});
  node.OnLearnerConnected(13);
  Ready r = LearnLeader3(node);
  ASSERT_EQ(node.role(), Role::kFollowing);
  EXPECT_TRUE(Closed(r, 13));
}

// The member we elected closed us before LEADERINFO (it was not leading
// yet): retry within initLimit instead of a new election.
TEST_F(FollowerTest, ConnectionClosedBeforeLeaderInfoIsRetried) {
  Node node(Three(1), Bootstrap{1, 1, 0, 0, {}});
  node.Start(0);
  node.TakeReady();
  ASSERT_EQ(LearnLeader3(node).connect_leader, 3);
  node.OnLeaderConnected(8);
  node.TakeReady();
  node.OnLeaderDisconnected(8);
  EXPECT_EQ(node.role(), Role::kFollowing);
  EXPECT_FALSE(node.TakeReady().connect_leader);
  node.Tick(1500);
  EXPECT_EQ(node.TakeReady().connect_leader, 3);
  node.OnLeaderConnected(9);
  EXPECT_EQ(Types(node.TakeReady()), std::vector<PacketType>{PacketType::kFollowerInfo});
}

// A learner synced by SNAP gets the proposals made meanwhile only after the
// body (the host holds them): their syncLimit clock starts at OnSnapSent,
// not when the node queued them, so a long SNAP under writes does not drop
// the learner; once started, the clock runs as usual.
TEST(Leader, SyncLimitOfProposalsQueuedBehindASnapStartsWhenItIsSent) {
  log::SetLevel(log::kError);
  Config c = Three(3);
  c.tick_ms = 100;
  c.init_limit = 20;
  c.sync_limit = 5;
  Node node(c, Bootstrap{1, 1, Z(1, 5), Z(1, 5), {}});
  node.Start(0);
  ElectSelf(node, Z(1, 5), 1);
  ASSERT_EQ(node.role(), Role::kLeading);
  Settle(node);
  // Follower 2 joins, in sync (DIFF), and the leader starts broadcasting.
  node.OnLearnerConnected(12);
  node.OnLearnerPacket(12, P(PacketType::kFollowerInfo, Z(1, 5), EncodeLearnerInfo({2, kProtocolVersion, 0})));
  Settle(node);
  node.OnLearnerPacket(12, P(PacketType::kAckEpoch, Z(1, 5), EncodeInt32(1)));
  Settle(node);
  node.OnLearnerPacket(12, P(PacketType::kAck, Z(2, 0)));
  Settle(node);
  ASSERT_TRUE(node.serving());
  // Follower 1 joins with nothing: below the log's base, it gets a SNAP.
  node.OnLearnerConnected(11);
  node.OnLearnerPacket(11, P(PacketType::kFollowerInfo, 0, EncodeLearnerInfo({1, kProtocolVersion, 0})));
  Settle(node);
  node.OnLearnerPacket(11, P(PacketType::kAckEpoch, 0, EncodeInt32(0)));
  Ready r = Settle(node);
  ASSERT_TRUE(std::any_of(r.packets.begin(), r.packets.end(), [](const Outgoing& o) {
    return o.conn == 11 && o.kind == Outgoing::Kind::kSnap;
  })) << ::testing::PrintToString(Types(r));
  // A write while the body streams (400 ms, most of syncLimit = 500 ms).
  const Zxid z = node.NextZxid();
  ASSERT_EQ(node.Propose(z, "x"), ProposeStatus::kOk);
  Settle(node);
  int64_t now = 1000;
  auto step = [&](int64_t to_ms) {
    for (; now < to_ms;) {
      now += 50;
      node.OnLearnerPacket(12, P(PacketType::kAck, z));  // follower 2 keeps up
      node.Tick(now);
      r = Settle(node);
      if (Closed(r, 11)) return false;
    }
    return true;
  };
  ASSERT_TRUE(step(1400));
  node.OnSnapSent(11);
  EXPECT_TRUE(step(1700)) << "dropped although its proposals were sent 300 ms ago";
  EXPECT_FALSE(step(2100)) << "a learner that never ACKs must still fail the syncLimit check";
  EXPECT_EQ(node.role(), Role::kLeading);
}

// Takes Readies until none is left, completing every fsync they ask for;
// returns the packet types sent on `conn`.
std::vector<PacketType> Drain(Node& node, ConnId conn) {
  std::vector<PacketType> out;
  for (Ready r = node.TakeReady(); !r.empty(); r = node.TakeReady()) {
    for (const Outgoing& o : r.packets) {
      if (o.conn == conn) out.push_back(o.packet.type);
    }
    for (const StorageOp& op : r.storage) {
      if (op.kind == StorageOp::Kind::kFsync) node.OnFsyncDone(op.token);
    }
  }
  return out;
}

// Leader.tryToCommit: a learner's SYNC leaves right after the COMMIT it
// waited for, before the COMMITs of proposals made after the sync arrived,
// even when one quorum ACK commits them together.
TEST(Leader, SyncLeavesRightAfterTheCommitItWaitedFor) {
  log::SetLevel(log::kError);
  Node node(Three(3), Bootstrap{});
  node.Start(0);
  ElectSelf(node);
  ASSERT_EQ(node.role(), Role::kLeading);
  Drain(node, 13);
  node.OnLearnerConnected(13);
  node.OnLearnerPacket(13, P(PacketType::kFollowerInfo, Z(0, 0), EncodeLearnerInfo({2, kProtocolVersion, 0})));
  Drain(node, 13);
  node.OnLearnerPacket(13, P(PacketType::kAckEpoch, Z(0, 0), EncodeInt32(0)));
  Drain(node, 13);
  node.OnLearnerPacket(13, P(PacketType::kAck, Z(1, 0)));
  ASSERT_EQ(Drain(node, 13), std::vector<PacketType>{PacketType::kUpToDate});
  // Nothing outstanding: answered at once.
  node.OnLearnerPacket(13, P(PacketType::kSync, 0));
  EXPECT_EQ(Drain(node, 13), std::vector<PacketType>{PacketType::kSync});
  // P1, then the sync, then P2, all covered by one fsync of the leader.
  ASSERT_EQ(node.Propose(node.NextZxid(), "p1"), ProposeStatus::kOk);
  node.OnLearnerPacket(13, P(PacketType::kSync, 0));
  ASSERT_EQ(node.Propose(node.NextZxid(), "p2"), ProposeStatus::kOk);
  Ready r = node.TakeReady();
  uint64_t token = 0;
  for (const StorageOp& op : r.storage) {
    if (op.kind == StorageOp::Kind::kFsync) token = op.token;
  }
  ASSERT_NE(token, 0u);
  EXPECT_EQ(Types(r), (std::vector<PacketType>{PacketType::kProposal, PacketType::kProposal}));
  node.OnLearnerPacket(13, P(PacketType::kAck, Z(1, 1)));
  node.OnLearnerPacket(13, P(PacketType::kAck, Z(1, 2)));
  EXPECT_TRUE(Drain(node, 13).empty()) << "no quorum before the leader's own fsync";
  node.OnFsyncDone(token);
  EXPECT_EQ(Drain(node, 13), (std::vector<PacketType>{PacketType::kCommit, PacketType::kSync, PacketType::kCommit}));
}

// Config::leader_append_bytes off (the server's setting): the leader's own
// kAppend carries no bytes (its host logs its own copy), while the learner's
// PROPOSAL carries them; a quorum of distinct voters' ACKs commits, and a
// voter's repeated ACK counts once.
TEST(Leader, OwnAppendWithoutBytesAndAcksCountedOncePerVoter) {
  log::SetLevel(log::kError);
  Config c = Three(3);
  c.leader_append_bytes = false;
  Node node(c, Bootstrap{});
  node.Start(0);
  ElectSelf(node);
  ASSERT_EQ(node.role(), Role::kLeading);
  Drain(node, 13);
  node.OnLearnerConnected(13);
  node.OnLearnerPacket(13, P(PacketType::kFollowerInfo, Z(0, 0), EncodeLearnerInfo({2, kProtocolVersion, 0})));
  Drain(node, 13);
  node.OnLearnerPacket(13, P(PacketType::kAckEpoch, Z(0, 0), EncodeInt32(0)));
  Drain(node, 13);
  node.OnLearnerPacket(13, P(PacketType::kAck, Z(1, 0)));
  ASSERT_EQ(Drain(node, 13), std::vector<PacketType>{PacketType::kUpToDate});
  ASSERT_EQ(node.Propose(node.NextZxid(), "txn-bytes"), ProposeStatus::kOk);
  Ready r = node.TakeReady();
  uint64_t token = 0;
  int appends = 0;
  for (const StorageOp& op : r.storage) {
    if (op.kind == StorageOp::Kind::kAppend) {
      ++appends;
      EXPECT_EQ(op.zxid, Z(1, 1));
      EXPECT_EQ(op.bytes, "");
    }
    if (op.kind == StorageOp::Kind::kFsync) token = op.token;
  }
  EXPECT_EQ(appends, 1);
  ASSERT_EQ(r.packets.size(), 1u);
  EXPECT_EQ(r.packets[0].packet.type, PacketType::kProposal);
  EXPECT_EQ(r.packets[0].packet.data, "txn-bytes");
  // The learner ACKs twice: one voter, no quorum without the leader's fsync.
  node.OnLearnerPacket(13, P(PacketType::kAck, Z(1, 1)));
  node.OnLearnerPacket(13, P(PacketType::kAck, Z(1, 1)));
  EXPECT_TRUE(Drain(node, 13).empty());
  EXPECT_LT(node.committed(), Z(1, 1));
  node.OnFsyncDone(token);
  EXPECT_EQ(Drain(node, 13), std::vector<PacketType>{PacketType::kCommit});
  EXPECT_EQ(node.committed(), Z(1, 1));
}

}  // namespace
}  // namespace aviary::zab
