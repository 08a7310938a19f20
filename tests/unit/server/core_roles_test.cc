// Two Cores in one process, as leader and follower: the leader's
// LeaderSequencer prepares and numbers every write (its committer commits at
// once and hands each committed txn, in order, to the follower too); the
// follower's FollowerSequencer forwards its clients' writes and session
// creations to the leader. Clients on the follower get correct replies in
// per-session order, watches on the follower fire for writes made on the
// leader, expiry is the leader's, and both end with the same state.
#include <gtest/gtest.h>

#include "server/follower_sequencer.h"
#include "storage/digest.h"
#include "two_cores.h"

namespace aviary::server::testing {
namespace {

using proto::Err;
using proto::OpCode;
using Kind = Item::Kind;

// The follower runs a FollowerSequencer: its clients' writes and session
// creations are forwarded to the leader.
struct Ensemble : TwoCores {
  Ensemble() { follower->core().SetSequencer(std::make_unique<FollowerSequencer>(wire.get())); }
};

TEST(CoreRoles, FollowerClientWritesThroughTheLeaderAndGetsOrderedReplies) {
  Ensemble e;
  const proto::ConnectResponse rsp = e.NewSession(*e.follower, 1);
  ASSERT_NE(rsp.sessionId, 0);
  EXPECT_EQ(rsp.sessionId >> 56, 2);  // chosen by the follower (its server id)
  EXPECT_EQ(e.wire->forwarded, 1);
  // The session exists on both servers.
  EXPECT_EQ(e.leader->core().state().sessions().count(rsp.sessionId), 1u);
  EXPECT_EQ(e.follower->core().state().sessions().count(rsp.sessionId), 1u);

  // Writes and reads interleaved in one batch: each read waits for the
  // write before it and sees it.
  e.follower->Send(1, 1, OpCode::kCreate, CreateBody("/a", "v1"));
  e.follower->Send(1, 2, OpCode::kGetData, GetDataBody("/a"));
  e.follower->Send(1, 3, OpCode::kSetData, SetDataBody("/a", "v2", 0));
  e.follower->Send(1, 4, OpCode::kGetData, GetDataBody("/a"));
  e.follower->Send(1, 5, OpCode::kSetData, SetDataBody("/a", "stale", 0));  // BadVersion
  e.follower->Send(1, 6, OpCode::kDelete, proto::DeleteRequest{"/a", 1});
  e.follower->Send(1, 7, OpCode::kExists, proto::ExistsRequest{"/a", false});
  e.follower->Run(e.now());
  EXPECT_TRUE(e.follower->Take(1).empty());  // nothing answered before the leader committed
  e.Pump();
  auto items = e.follower->Take(1);
  ASSERT_EQ(items.size(), 7u);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(items[i].hdr.xid, i + 1);
  EXPECT_EQ(items[0].hdr.err, 0);
  EXPECT_EQ(std::get<proto::CreateResponse>(items[0].body).path, "/a");
  EXPECT_EQ(std::get<proto::GetDataResponse>(items[1].body).data, "v1");
  EXPECT_EQ(items[1].hdr.zxid, items[0].hdr.zxid);
  EXPECT_EQ(std::get<proto::StatResponse>(items[2].body).stat.version, 1);
  EXPECT_EQ(std::get<proto::GetDataResponse>(items[3].body).data, "v2");
  EXPECT_EQ(items[4].hdr.err, static_cast<int32_t>(Err::kBadVersion));
  EXPECT_EQ(items[5].hdr.err, 0);
  EXPECT_EQ(items[6].hdr.err, static_cast<int32_t>(Err::kNoNode));
  // zxids were assigned by the leader, one per write, in order.
  EXPECT_EQ(items[2].hdr.zxid, items[0].hdr.zxid + 1);
  EXPECT_EQ(items[4].hdr.zxid, items[0].hdr.zxid + 2);
  EXPECT_EQ(items[5].hdr.zxid, items[0].hdr.zxid + 3);
  EXPECT_EQ(e.leader->core().last_zxid(), e.follower->core().last_zxid());
  EXPECT_EQ(storage::TreeDigest(e.leader->core().tree()), storage::TreeDigest(e.follower->core().tree()));
}

TEST(CoreRoles, WatchOnTheFollowerFiresForAWriteMadeOnTheLeader) {
  Ensemble e;
  e.NewSession(*e.leader, 10);
  e.NewSession(*e.follower, 1);
  e.leader->Send(10, 1, OpCode::kCreate, CreateBody("/w", "0"));
  e.Pump();
  e.leader->Take(10);
  e.follower->Send(1, 1, OpCode::kGetData, GetDataBody("/w", /*watch=*/true));
  e.follower->Send(1, 2, OpCode::kExists, proto::ExistsRequest{"/w/child", true});
  e.Pump();
  auto reads = e.follower->Take(1);
  ASSERT_EQ(reads.size(), 2u);
  EXPECT_EQ(std::get<proto::GetDataResponse>(reads[0].body).data, "0");

  e.leader->Send(10, 2, OpCode::kSetData, SetDataBody("/w", "1"));
  e.leader->Send(10, 3, OpCode::kCreate, CreateBody("/w/child", ""));
  e.Pump();
  auto events = e.follower->Take(1);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, Kind::kEvent);
  EXPECT_EQ(events[0].event().type, static_cast<int32_t>(proto::EventType::kNodeDataChanged));
  EXPECT_EQ(events[0].event().path, "/w");
  EXPECT_EQ(events[1].event().type, static_cast<int32_t>(proto::EventType::kNodeCreated));
  EXPECT_EQ(events[1].event().path, "/w/child");
  // A follower client's write after the event: its reply follows the event.
  e.follower->Send(1, 3, OpCode::kSetData, SetDataBody("/w", "2"));
  e.Pump();
  auto after = e.follower->Take(1);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].hdr.xid, 3);
  EXPECT_EQ(std::get<proto::StatResponse>(after[0].body).stat.version, 2);
  EXPECT_EQ(e.leader->Take(10).size(), 2u);  // the leader's own replies
}

TEST(CoreRoles, CloseSessionOnTheFollowerEndsItEverywhere) {
  Ensemble e;
  const proto::ConnectResponse rsp = e.NewSession(*e.follower, 1);
  constexpr int32_t kEph = static_cast<int32_t>(proto::CreateMode::kEphemeral);
  e.follower->Send(1, 1, OpCode::kCreate, CreateBody("/e", "", kEph));
  e.follower->Send(1, 2, OpCode::kCloseSession, proto::Empty{});
  e.Pump();
  auto items = e.follower->Take(1);
  ASSERT_GE(items.size(), 2u);
  EXPECT_EQ(items[0].hdr.xid, 1);
  EXPECT_EQ(items[1].hdr.xid, 2);
  EXPECT_EQ(items[1].hdr.err, 0);
  EXPECT_TRUE(e.follower->IsClosed(1));
  EXPECT_EQ(e.leader->core().tree().Find("/e"), nullptr);
  EXPECT_EQ(e.follower->core().tree().Find("/e"), nullptr);
  EXPECT_EQ(e.leader->core().state().sessions().count(rsp.sessionId), 0u);
  EXPECT_EQ(e.follower->core().state().sessions().count(rsp.sessionId), 0u);
}

TEST(CoreRoles, TheLeaderExpiresAFollowerSessionAndTheFollowerClosesIt) {
  Ensemble e;
  const proto::ConnectResponse rsp = e.NewSession(*e.follower, 1);
  // The follower's own tick expires nothing: expiry is the leader's.
  e.clock.Advance(60000);
  e.follower->Tick(e.now());
  EXPECT_FALSE(e.follower->IsClosed(1));
  EXPECT_EQ(e.follower->core().state().sessions().count(rsp.sessionId), 1u);
  // No touches reached the leader (that is ZAB's PING): it expires it.
  e.leader->Tick(e.now());
  e.Pump();
  EXPECT_TRUE(e.follower->IsClosed(1));
  EXPECT_EQ(e.follower->core().state().sessions().count(rsp.sessionId), 0u);
  auto* seq = dynamic_cast<FollowerSequencer*>(&e.follower->core().sequencer());
  ASSERT_NE(seq, nullptr);
  EXPECT_TRUE(seq->TakeTouched().empty());  // this session only connected
}

TEST(CoreRoles, FollowerTouchesAreCollectedForTheLeader) {
  Ensemble e;
  const proto::ConnectResponse rsp = e.NewSession(*e.follower, 1);
  e.follower->Send(1, -2, OpCode::kPing, proto::Empty{});
  e.Pump();
  auto* seq = dynamic_cast<FollowerSequencer*>(&e.follower->core().sequencer());
  ASSERT_NE(seq, nullptr);
  EXPECT_EQ(seq->TakeTouched(), std::vector<int64_t>{rsp.sessionId});
  EXPECT_TRUE(seq->TakeTouched().empty());
}

TEST(CoreRoles, AnUndecodableWriteIsForwardedAsItsBytesAndFailsOnTheLeader) {
  Ensemble e;
  e.NewSession(*e.follower, 1);
  e.follower->Send(1, 1, OpCode::kCreate, CreateBody("/x", ""));
  CoreEvent bad;
  bad.kind = CoreEvent::Kind::kRequest;
  bad.conn = 1;
  bad.request.header = proto::RequestHeader{2, static_cast<int32_t>(OpCode::kSetData)};
  bad.decode_err = Err::kMarshallingError;
  bad.raw_body = std::string("\x00\x00\x00\x7f/x", 6);  // a path length past the end
  bad.bytes = 20;
  e.follower->Post(bad);
  e.Pump();
  auto items = e.follower->Take(1);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].hdr.err, 0);
  EXPECT_EQ(items[1].hdr.xid, 2);
  EXPECT_EQ(items[1].hdr.err, static_cast<int32_t>(Err::kMarshallingError));
  EXPECT_EQ(items[1].hdr.zxid, items[0].hdr.zxid + 1);  // it still took a zxid, on the leader
}

TEST(CoreRoles, LeaderEpochPrefixesItsZxids) {
  Ensemble e;
  auto leader_seq = e.leader->core().MakeLeaderSequencer();
  leader_seq->SetEpoch(5);
  e.leader->core().SetSequencer(std::move(leader_seq));
  e.NewSession(*e.follower, 1);
  EXPECT_EQ(e.leader->core().last_zxid(), (int64_t{5} << 32) | 1);
  EXPECT_EQ(e.follower->core().last_zxid(), (int64_t{5} << 32) | 1);
}

}  // namespace
}  // namespace aviary::server::testing
