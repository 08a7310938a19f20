// Local sessions (localSessionsEnabled, core_local_session.cc) with two Cores
// in one process, a leader (server 1) and a follower (server 2): the
// leader's commits are fed, in order, to the follower; forwarded requests
// reach the leader's core. Time is a ManualClock. Proves: a new session of a
// leader or follower makes no txn, and neither does its close or expiry;
// its persistent writes run through the leader; an ephemeral create upgrades
// it first (createSession, then the create, ephemeralOwner = its id, global
// everywhere, its close a txn that removes the node), or fails with
// EPHEMERALONLOCALSESSION when upgrading is off; the leader runs another
// member's local session, refuses its own unknown ids and a foreign local
// session's ephemerals; a local session re-attaches only on its member;
// standalone servers are unaffected.
#include <gtest/gtest.h>

#include "two_cores.h"

namespace aviary::server::testing {
namespace {

using proto::Err;
using proto::OpCode;
using Kind = Item::Kind;

constexpr int32_t kEphemeral = 1;

struct Ensemble : TwoCores {
  explicit Ensemble(bool upgrading = true, bool local = true)
      : TwoCores([&](CoreOptions& o) {
          o.config.local_sessions_enabled = local;
          o.config.local_sessions_upgrading_enabled = upgrading;
        }) {
    leader->core().SetEnsembleHooks(nullptr, {});
    follower->core().SetEnsembleHooks(wire.get(), {});
    leader->Role(ServingRole::kLeader, 1);
    leader->Run(now());
    follower->Role(ServingRole::kFollower);
    follower->Run(now());
  }
  // A local session is answered at once: no txn to wait for.
  proto::ConnectResponse NewSession(CoreHarness& h, net::ConnId conn, int32_t timeout_ms = 10000) {
    return TwoCores::NewSession(h, conn, timeout_ms, /*pump=*/false);
  }
  // One request of `conn` on `h`, pumped; its reply.
  Item Call(CoreHarness& h, net::ConnId conn, int32_t xid, OpCode op, proto::RequestBody body) {
    h.Send(conn, xid, op, std::move(body));
    Pump();
    auto items = h.Take(conn);  // the reply (a close's is followed by the connection's close)
    EXPECT_EQ(items.size(), op == OpCode::kCloseSession ? 2u : 1u) << "op " << static_cast<int>(op);
    return items.empty() ? Item{} : items[0];
  }
  const tree::Node* Find(CoreHarness& h, const std::string& path) { return h.core().tree().Find(path); }
};

ForwardedRequest Forwarded(int64_t session, int32_t cxid, OpCode op, const proto::RequestBody& body) {
  proto::Request req;
  req.header = proto::RequestHeader{cxid, static_cast<int32_t>(op)};
  req.body = body;
  std::string frame;
  proto::EncodeRequest(req, &frame);
  ForwardedRequest f;
  f.session_id = session;
  f.cxid = cxid;
  f.type = static_cast<int32_t>(op);
  f.body = frame.substr(12);  // after length, xid, type
  return f;
}

void PostForwarded(CoreHarness& h, ForwardedRequest f) {
  CoreEvent ev;
  ev.kind = CoreEvent::Kind::kForwarded;
  ev.forwarded = std::make_shared<ForwardedRequest>(std::move(f));
  h.Post(std::move(ev));
}

TEST(CoreLocalSession, NewSessionsMakeNoTxnAndTheirWritesGoThroughTheLeader) {
  Ensemble e;
  const int64_t zxid0 = e.leader->core().last_zxid();
  const proto::ConnectResponse f = e.NewSession(*e.follower, 1);
  const proto::ConnectResponse l = e.NewSession(*e.leader, 2);
  EXPECT_EQ(f.sessionId >> 56, 2);
  EXPECT_EQ(l.sessionId >> 56, 1);
  e.Pump();
  EXPECT_TRUE(e.wire->types.empty()) << "no createSession forwarded";
  EXPECT_EQ(e.leader->core().last_zxid(), zxid0);
  EXPECT_EQ(e.follower->core().state().sessions().count(f.sessionId), 0u);

  Item r = e.Call(*e.follower, 1, 1, OpCode::kCreate, CreateBody("/p", "x"));
  EXPECT_EQ(r.hdr.err, 0);
  EXPECT_EQ(std::get<proto::CreateResponse>(r.body).path, "/p");
  r = e.Call(*e.leader, 2, 1, OpCode::kCreate, CreateBody("/q", "y"));
  EXPECT_EQ(r.hdr.err, 0);
  ASSERT_NE(e.Find(*e.leader, "/p"), nullptr);
  ASSERT_NE(e.Find(*e.follower, "/q"), nullptr);
  const int64_t zxid1 = e.leader->core().last_zxid();
  EXPECT_EQ(zxid0, 0);
  EXPECT_EQ(zxid1, (int64_t{1} << 32) | 2) << "two creates, no session txn";

  // Closes are local: answered, connection closed, no txn anywhere.
  r = e.Call(*e.follower, 1, 2, OpCode::kCloseSession, proto::Empty{});
  EXPECT_EQ(r.hdr.err, 0);
  EXPECT_TRUE(e.follower->IsClosed(1));
  e.leader->Send(2, 2, OpCode::kCloseSession, proto::Empty{});
  e.Pump();
  EXPECT_TRUE(e.leader->IsClosed(2));
  EXPECT_EQ(e.leader->core().last_zxid(), zxid1);
  EXPECT_EQ(e.follower->core().last_zxid(), zxid1);
  EXPECT_EQ(e.wire->types, (std::vector<OpCode>{OpCode::kCreate}));
}

TEST(CoreLocalSession, CloseWaitsForTheWritesSentBeforeIt) {
  Ensemble e;
  e.NewSession(*e.follower, 1);
  e.follower->Send(1, 1, OpCode::kCreate, CreateBody("/w", ""));
  e.follower->Send(1, 2, OpCode::kCloseSession, proto::Empty{});
  e.follower->Send(1, 3, OpCode::kCreate, CreateBody("/after-close", ""));
  e.follower->Run(e.now());
  EXPECT_TRUE(e.follower->Take(1).empty()) << "the close waits behind the forwarded create";
  e.Pump();
  auto items = e.follower->Take(1);
  ASSERT_EQ(items.size(), 3u) << "the write after the close is dropped with the connection";
  EXPECT_EQ(items[0].hdr.xid, 1);
  EXPECT_EQ(items[0].hdr.err, 0);
  EXPECT_EQ(items[1].hdr.xid, 2);
  EXPECT_EQ(items[1].hdr.err, 0);
  EXPECT_EQ(items[2].kind, Kind::kClose);
  EXPECT_EQ(e.wire->types, (std::vector<OpCode>{OpCode::kCreate})) << "a write after the close is not forwarded";
  EXPECT_EQ(e.Find(*e.leader, "/after-close"), nullptr);
}

TEST(CoreLocalSession, EphemeralCreateUpgradesTheSessionFirst) {
  Ensemble e;
  const proto::ConnectResponse f = e.NewSession(*e.follower, 1, 12000);
  Item r = e.Call(*e.follower, 1, 1, OpCode::kCreate, CreateBody("/eph", "", kEphemeral));
  EXPECT_EQ(r.hdr.err, 0);
  EXPECT_EQ(e.wire->types, (std::vector<OpCode>{OpCode::kCreateSession, OpCode::kCreate}));
  for (CoreHarness* h : {e.leader.get(), e.follower.get()}) {
    const tree::Node* n = e.Find(*h, "/eph");
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->ephemeral_owner(), f.sessionId);
    ASSERT_EQ(h->core().state().sessions().count(f.sessionId), 1u) << "global on every member";
    EXPECT_EQ(h->core().state().sessions().at(f.sessionId), 12000);
  }
  // A second ephemeral needs no second upgrade.
  r = e.Call(*e.follower, 1, 2, OpCode::kCreate2, CreateBody("/eph2", "", kEphemeral));
  EXPECT_EQ(r.hdr.err, 0);
  EXPECT_EQ(e.wire->types.size(), 3u);
  // Global now: its close is a txn, and its ephemerals go everywhere.
  r = e.Call(*e.follower, 1, 3, OpCode::kCloseSession, proto::Empty{});
  EXPECT_EQ(r.hdr.err, 0);
  EXPECT_EQ(e.wire->types.back(), OpCode::kCloseSession);
  for (CoreHarness* h : {e.leader.get(), e.follower.get()}) {
    EXPECT_EQ(e.Find(*h, "/eph"), nullptr);
    EXPECT_EQ(e.Find(*h, "/eph2"), nullptr);
    EXPECT_EQ(h->core().state().sessions().count(f.sessionId), 0u);
  }
}

TEST(CoreLocalSession, LeaderUpgradesItsOwnLocalSession) {
  Ensemble e;
  const proto::ConnectResponse l = e.NewSession(*e.leader, 1);
  const int64_t zxid0 = e.leader->core().last_zxid();
  proto::MultiRequest m;
  m.ops.push_back(proto::MultiOp{OpCode::kCreate, CreateBody("/m", "")});
  m.ops.push_back(proto::MultiOp{OpCode::kCreate, CreateBody("/m/e", "", kEphemeral)});
  Item r = e.Call(*e.leader, 1, 1, OpCode::kMulti, m);
  EXPECT_EQ(r.hdr.err, 0);
  EXPECT_EQ(zxid0, 0);
  EXPECT_EQ(e.leader->core().last_zxid(), (int64_t{1} << 32) | 2) << "createSession, then the multi";
  ASSERT_NE(e.Find(*e.follower, "/m/e"), nullptr);
  EXPECT_EQ(e.Find(*e.follower, "/m/e")->ephemeral_owner(), l.sessionId);
  EXPECT_EQ(e.follower->core().state().sessions().count(l.sessionId), 1u);
}

TEST(CoreLocalSession, UpgradingOffRefusesEphemeralsWithEphemeralOnLocalSession) {
  Ensemble e(/*upgrading=*/false);
  const proto::ConnectResponse f = e.NewSession(*e.follower, 1);
  e.NewSession(*e.leader, 2);
  const int32_t kRefused = static_cast<int32_t>(Err::kEphemeralOnLocalSession);
  // Follower: forwarded; the leader's error txn (SESSIONEXPIRED) is answered
  // with the error the follower knows, as ZooKeeper's FinalRequestProcessor.
  Item r = e.Call(*e.follower, 1, 1, OpCode::kCreate, CreateBody("/e1", "", kEphemeral));
  EXPECT_EQ(r.hdr.err, kRefused);
  EXPECT_EQ(e.wire->types, (std::vector<OpCode>{OpCode::kCreate})) << "no upgrade";
  r = e.Call(*e.leader, 2, 1, OpCode::kCreate, CreateBody("/e2", "", 3 /* ephemeral sequential */));
  EXPECT_EQ(r.hdr.err, kRefused);
  // In a multi the leader's per-op results stand.
  proto::MultiRequest m;
  m.ops.push_back(proto::MultiOp{OpCode::kCreate, CreateBody("/e3", "", kEphemeral)});
  r = e.Call(*e.leader, 2, 2, OpCode::kMulti, m);
  ASSERT_EQ(std::get<proto::MultiResponse>(r.body).results.size(), 1u);
  EXPECT_EQ(std::get<proto::MultiResponse>(r.body).results[0].err, kRefused);
  r = e.Call(*e.follower, 1, 2, OpCode::kMulti, m);
  EXPECT_EQ(std::get<proto::MultiResponse>(r.body).results[0].err, static_cast<int32_t>(Err::kSessionExpired));
  // Persistent and container creates still work; nothing was upgraded.
  EXPECT_EQ(e.Call(*e.follower, 1, 3, OpCode::kCreate, CreateBody("/p", "")).hdr.err, 0);
  EXPECT_EQ(e.Call(*e.follower, 1, 4, OpCode::kCreateContainer, CreateBody("/c", "", 4)).hdr.err, 0);
  for (const char* p : {"/e1", "/e20000000000", "/e3"}) EXPECT_EQ(e.Find(*e.leader, p), nullptr) << p;
  EXPECT_EQ(e.leader->core().state().sessions().count(f.sessionId), 0u);
}

TEST(CoreLocalSession, LocalSessionsExpireOnTheirMemberWithoutATxn) {
  Ensemble e;
  e.NewSession(*e.follower, 1, 4000);
  e.NewSession(*e.leader, 2, 4000);
  const int64_t zxid0 = e.leader->core().last_zxid();
  e.clock.Advance(7000);
  e.follower->Tick(e.now());
  e.leader->Tick(e.now());
  e.Pump();
  EXPECT_TRUE(e.follower->IsClosed(1));
  EXPECT_TRUE(e.leader->IsClosed(2));
  EXPECT_EQ(e.leader->core().last_zxid(), zxid0);
  EXPECT_TRUE(e.wire->types.empty());
}

TEST(CoreLocalSession, AFollowerExpiresOnlyItsLocalSessions) {
  Ensemble e;
  const proto::ConnectResponse g = e.NewSession(*e.follower, 1, 4000);
  EXPECT_EQ(e.Call(*e.follower, 1, 1, OpCode::kCreate, CreateBody("/g", "", kEphemeral)).hdr.err, 0);
  e.NewSession(*e.follower, 2, 4000);
  for (int i = 0; i < 3; ++i) {  // global expiry is the leader's: only the follower ticks
    e.clock.Advance(3000);
    e.follower->Tick(e.now());
  }
  EXPECT_TRUE(e.follower->IsClosed(2));
  EXPECT_FALSE(e.follower->IsClosed(1));
  EXPECT_EQ(e.Call(*e.follower, 1, 2, OpCode::kGetData, GetDataBody("/g")).hdr.err, 0);
  e.leader->Tick(e.now());  // the leader heard no touch: its txn closes the session everywhere
  e.Pump();
  EXPECT_TRUE(e.follower->IsClosed(1));
  EXPECT_EQ(e.follower->core().state().sessions().count(g.sessionId), 0u);
  EXPECT_EQ(e.Find(*e.follower, "/g"), nullptr);
}

TEST(CoreLocalSession, LeaderRunsAnotherMembersLocalSessionButNotItsOwnUnknownIds) {
  Ensemble e;
  const int64_t foreign = (int64_t{3} << 56) | 77;  // server 3's local session
  const int64_t own = (int64_t{1} << 56) | 77;      // gone: the leader's own byte
  PostForwarded(*e.leader, Forwarded(foreign, 1, OpCode::kCreate, CreateBody("/f", "")));
  PostForwarded(*e.leader, Forwarded(foreign, 2, OpCode::kCreate, CreateBody("/fe", "", kEphemeral)));
  PostForwarded(*e.leader, Forwarded(own, 1, OpCode::kCreate, CreateBody("/o", "")));
  e.leader->Run(e.now());
  EXPECT_NE(e.Find(*e.leader, "/f"), nullptr);
  EXPECT_EQ(e.Find(*e.leader, "/fe"), nullptr) << "a local session's ephemeral: checkGlobalSession";
  EXPECT_EQ(e.Find(*e.leader, "/o"), nullptr);
  const auto& feed = e.leader_committer.follower_feed;
  ASSERT_EQ(feed.size(), 3u);
  EXPECT_EQ(feed[1].type, OpCode::kError);
  EXPECT_EQ(std::get<txn::ErrorTxn>(feed[1].op.body).err, Err::kSessionExpired);
  EXPECT_EQ(std::get<txn::ErrorTxn>(feed[2].op.body).err, Err::kSessionExpired);
  // A forwarded upgrade makes the ephemeral that follows it run.
  ForwardedRequest up;
  up.session_id = foreign;
  up.type = static_cast<int32_t>(OpCode::kCreateSession);
  up.body = std::string("\0\0\x27\x10", 4);  // 10000 ms
  PostForwarded(*e.leader, up);
  PostForwarded(*e.leader, Forwarded(foreign, 3, OpCode::kCreate, CreateBody("/fe", "", kEphemeral)));
  e.leader->Run(e.now());
  ASSERT_NE(e.Find(*e.leader, "/fe"), nullptr);
  EXPECT_EQ(e.Find(*e.leader, "/fe")->ephemeral_owner(), foreign);
}

TEST(CoreLocalSession, ALocalSessionReattachesOnlyOnItsMember) {
  Ensemble e;
  const proto::ConnectResponse f = e.NewSession(*e.follower, 1);
  const proto::ConnectResponse l = e.NewSession(*e.leader, 2);
  // Same member: re-attached here, no REVALIDATE.
  e.follower->Open(3);
  e.follower->Connect(3, 10000, f.sessionId, f.passwd);
  e.follower->Run(e.now());
  EXPECT_TRUE(e.wire->asks.empty());
  EXPECT_EQ(e.follower->Take(3).at(0).connect.sessionId, f.sessionId);
  // The leader calls another member's (or its own) local session invalid.
  EXPECT_FALSE(e.leader->core().RevalidateForLearner(f.sessionId, 10000, e.now()));
  EXPECT_FALSE(e.leader->core().RevalidateForLearner(l.sessionId, 10000, e.now()));
  e.leader->Open(4);
  e.leader->Connect(4, 10000, f.sessionId, f.passwd);
  e.leader->Run(e.now());
  auto items = e.leader->Take(4);
  ASSERT_FALSE(items.empty());
  EXPECT_EQ(items[0].connect.sessionId, 0) << "expired";
  e.follower->Open(5);
  e.follower->Connect(5, 10000, l.sessionId, l.passwd);
  e.follower->Run(e.now());
  ASSERT_EQ(e.wire->asks.size(), 1u) << "not local here: asked of the leader";
}

TEST(CoreLocalSession, RoleChangeEndsLocalSessions) {
  Ensemble e;
  const proto::ConnectResponse f = e.NewSession(*e.follower, 1);
  e.follower->Role(ServingRole::kNotServing);
  e.follower->Run(e.now());
  e.follower->Role(ServingRole::kFollower);
  e.follower->Run(e.now());
  e.follower->Open(2);
  e.follower->Connect(2, 10000, f.sessionId, f.passwd);
  e.follower->Run(e.now());
  EXPECT_EQ(e.wire->asks.size(), 1u) << "no longer local here";
}

TEST(CoreLocalSession, AnUpgradeInFlightAtARoleChangeIsForgottenThenAppliedAsAnySession) {
  Ensemble e;
  const proto::ConnectResponse f = e.NewSession(*e.follower, 1);
  e.follower->Send(1, 1, OpCode::kCreate, CreateBody("/late", "", kEphemeral));
  e.follower->Run(e.now());  // forwarded: createSession + create, not yet at the leader
  e.follower->Role(ServingRole::kNotServing);
  e.follower->Run(e.now());
  e.follower->Role(ServingRole::kFollower);
  e.Pump();  // the leader commits both; the follower applies them
  EXPECT_EQ(e.follower->core().state().sessions().count(f.sessionId), 1u);
  ASSERT_NE(e.Find(*e.follower, "/late"), nullptr);
  // Global now: it re-attaches through the leader.
  e.follower->Open(2);
  e.follower->Connect(2, 10000, f.sessionId, f.passwd);
  e.follower->Run(e.now());
  EXPECT_EQ(e.wire->asks.size(), 1u);
  EXPECT_TRUE(e.leader->core().RevalidateForLearner(f.sessionId, 10000, e.now()));
}

TEST(CoreLocalSession, StandaloneIgnoresTheSetting) {
  base::ManualClock clock;
  CoreOptions o = CoreHarness::DefaultOptions();
  o.clock = &clock;
  o.config.local_sessions_enabled = true;
  CoreHarness h(false, o);
  const proto::ConnectResponse rsp = h.Handshake(1, clock.SteadyMs());
  EXPECT_EQ(h.core().state().sessions().count(rsp.sessionId), 1u) << "a createSession txn, as ever";
}

}  // namespace
}  // namespace aviary::server::testing
