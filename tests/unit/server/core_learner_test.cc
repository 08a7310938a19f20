// A learner's clients and the leader (core_learner.cc), with two Cores in
// one process: the leader's commits are fed, in order, to the follower; the
// test plays the quorum wire in between (REVALIDATE asks and answers, the
// leader's SYNC). Proves: ensemble members make ZooKeeper's passwords; a
// session moves to a follower only once the leader calls it valid (held
// requests run after the ConnectResponse), is expired when the leader says
// so, is closed when no answer comes; the leader answers from its table and
// touches; a follower's sync() waits for the leader's SYNC and keeps the
// session's order.
#include <gtest/gtest.h>

#include "session/java_random.h"
#include "two_cores.h"

namespace aviary::server::testing {
namespace {

using proto::OpCode;
using Kind = Item::Kind;

// A learner's request as the leader's core receives it (REQUEST from learner connection 9).
CoreEvent Forwarded(int64_t session, int32_t cxid, OpCode op, std::string body) {
  auto f = std::make_shared<ForwardedRequest>();
  f->session_id = session;
  f->cxid = cxid;
  f->type = static_cast<int32_t>(op);
  f->body = std::move(body);
  f->learner_conn = 9;
  CoreEvent ev;
  ev.kind = CoreEvent::Kind::kForwarded;
  ev.forwarded = std::move(f);
  return ev;
}

// The follower is a learner (ensemble hooks, follower role); its sync()s
// are held for the test to answer as the leader's SYNC.
struct Ensemble : TwoCores {
  Ensemble() : TwoCores({}, /*hold_syncs=*/true) {
    leader->core().SetEnsembleHooks(nullptr, {});
    follower->core().SetEnsembleHooks(wire.get(), {});
    CoreEvent role;
    role.kind = CoreEvent::Kind::kRole;
    role.role = ServingRole::kFollower;
    follower->Post(std::move(role));
    follower->Run(now());
  }
  // Runs `fn` on `h`'s core as the quorum peer does (Core::PostCall).
  void Call(CoreHarness& h, std::function<void(Core&, int64_t)> fn) {
    CoreEvent ev;
    ev.kind = CoreEvent::Kind::kCall;
    ev.call = std::move(fn);
    h.Post(std::move(ev));
    h.Run(now());
  }
  // The leader answers the follower's oldest REVALIDATE ask.
  void AnswerRevalidate() {
    ASSERT_FALSE(wire->asks.empty());
    auto [id, timeout_ms] = wire->asks.front();
    wire->asks.erase(wire->asks.begin());
    const bool valid = leader->core().RevalidateForLearner(id, timeout_ms, now());
    Call(*follower, [id, valid](Core& c, int64_t now_ms) { c.OnRevalidateReply(id, valid, now_ms); });
  }
};

TEST(CoreLearner, EnsembleMembersMakeZooKeepersPasswords) {
  Ensemble e;
  const proto::ConnectResponse a = e.NewSession(*e.leader, 1);
  const proto::ConnectResponse b = e.NewSession(*e.follower, 2);
  EXPECT_EQ(a.passwd, session::ZooKeeperPassword(a.sessionId));
  EXPECT_EQ(b.passwd, session::ZooKeeperPassword(b.sessionId));
}

TEST(CoreLearner, SessionMovesToFollowerOnceTheLeaderSaysValid) {
  Ensemble e;
  const proto::ConnectResponse made = e.NewSession(*e.leader, 1);
  e.leader->Send(1, 1, OpCode::kCreate, CreateBody("/e", "", 1 /* ephemeral */));
  e.Pump();
  e.follower->Open(2);
  e.follower->Connect(2, 12000, made.sessionId, made.passwd);
  e.follower->Send(2, 7, OpCode::kGetData, GetDataBody("/e"));  // held behind the handshake
  e.Pump();
  EXPECT_TRUE(e.follower->Take(2).empty()) << "nothing before the leader's answer";
  ASSERT_EQ(e.wire->asks.size(), 1u);
  EXPECT_EQ(e.wire->asks[0], std::make_pair(made.sessionId, 12000));
  e.AnswerRevalidate();
  auto items = e.follower->Take(2);
  ASSERT_EQ(items.size(), 2u);
  ASSERT_EQ(items[0].kind, Kind::kConnect);
  EXPECT_EQ(items[0].connect.sessionId, made.sessionId);
  EXPECT_EQ(items[0].connect.timeOut, 12000);
  EXPECT_EQ(items[0].connect.passwd, made.passwd);
  EXPECT_EQ(items[1].hdr.xid, 7);
  EXPECT_EQ(std::get<proto::GetDataResponse>(items[1].body).stat.ephemeralOwner, made.sessionId);
  // Attached here now: a reconnect to this follower needs no new answer.
  e.follower->Open(3);
  e.follower->Connect(3, 12000, made.sessionId, made.passwd);
  e.follower->Run(e.now());
  EXPECT_TRUE(e.wire->asks.empty());
  EXPECT_EQ(e.follower->Take(3).at(0).connect.sessionId, made.sessionId);
}

TEST(CoreLearner, LeaderSaysInvalidAndTheClientLearnsItExpired) {
  Ensemble e;
  const proto::ConnectResponse made = e.NewSession(*e.leader, 1);
  e.leader->Send(1, 1, OpCode::kCloseSession, proto::Empty{});
  e.Pump();
  e.follower->Open(2);
  e.follower->Connect(2, 10000, made.sessionId, made.passwd);
  e.follower->Send(2, 3, OpCode::kGetData, GetDataBody("/"));
  e.follower->Run(e.now());
  ASSERT_EQ(e.wire->asks.size(), 1u);  // unknown here: the leader decides
  e.AnswerRevalidate();
  auto items = e.follower->Take(2);
  ASSERT_EQ(items.size(), 2u);
  ASSERT_EQ(items[0].kind, Kind::kConnect);
  EXPECT_EQ(items[0].connect.sessionId, 0);
  EXPECT_EQ(items[0].connect.timeOut, 0);
  EXPECT_EQ(items[1].kind, Kind::kClose);
}

TEST(CoreLearner, WrongPasswordIsRefusedWithoutAskingTheLeader) {
  Ensemble e;
  const proto::ConnectResponse made = e.NewSession(*e.leader, 1);
  std::string wrong = made.passwd;
  wrong[0] = static_cast<char>(wrong[0] ^ 0x5a);
  e.follower->Open(2);
  e.follower->Connect(2, 10000, made.sessionId, wrong);
  e.follower->Run(e.now());
  EXPECT_TRUE(e.wire->asks.empty());
  auto items = e.follower->Take(2);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].connect.sessionId, 0);
  EXPECT_EQ(items[1].kind, Kind::kClose);
}

TEST(CoreLearner, NoAnswerWithinTheSessionTimeoutClosesTheConnection) {
  Ensemble e;
  const proto::ConnectResponse made = e.NewSession(*e.leader, 1);
  e.follower->Open(2);
  e.follower->Connect(2, 10000, made.sessionId, made.passwd);
  e.follower->Run(e.now());
  ASSERT_EQ(e.wire->asks.size(), 1u);
  e.clock.Advance(9999);
  e.follower->Tick(e.now());
  EXPECT_TRUE(e.follower->Take(2).empty());
  e.clock.Advance(1);
  e.follower->Tick(e.now());
  auto items = e.follower->Take(2);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, Kind::kClose);
  e.AnswerRevalidate();  // too late: nothing more on that connection
  EXPECT_TRUE(e.follower->Take(2).empty());
}

TEST(CoreLearner, ValidAtTheLeaderButNotYetAppliedHereClosesInsteadOfExpiring) {
  Ensemble e;
  e.follower->Open(2);
  const int64_t id = 0x0100000000000042LL;
  e.follower->Connect(2, 10000, id, session::ZooKeeperPassword(id));
  e.follower->Run(e.now());
  ASSERT_EQ(e.wire->asks.size(), 1u);
  e.wire->asks.clear();
  e.Call(*e.follower, [id](Core& c, int64_t now_ms) { c.OnRevalidateReply(id, true, now_ms); });
  auto items = e.follower->Take(2);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, Kind::kClose);
}

TEST(CoreLearner, LeaderAnswersFromItsTableAndTouches) {
  Ensemble e;
  const proto::ConnectResponse made = e.NewSession(*e.leader, 1);  // timeout 10000 from t=0
  e.leader->Disconnect(1);
  e.leader->Run(e.now());
  EXPECT_FALSE(e.leader->core().RevalidateForLearner(made.sessionId + 1, 10000, e.now()));
  e.clock.Advance(8000);
  EXPECT_TRUE(e.leader->core().RevalidateForLearner(made.sessionId, 10000, e.now()));
  e.clock.Advance(8000);  // t=16000: past the first expiry, within the touched one
  e.leader->Tick(e.now());
  EXPECT_EQ(e.leader->core().state().sessions().count(made.sessionId), 1u);
  EXPECT_TRUE(e.leader->core().RevalidateForLearner(made.sessionId, 10000, e.now()));
  e.clock.Advance(14000);
  e.leader->Tick(e.now());
  e.leader->Run(e.now());
  EXPECT_EQ(e.leader->core().state().sessions().count(made.sessionId), 0u);
  EXPECT_FALSE(e.leader->core().RevalidateForLearner(made.sessionId, 10000, e.now()));
}

TEST(CoreLearner, FollowerSyncWaitsForTheLeadersSync) {
  Ensemble e;
  const proto::ConnectResponse s = e.NewSession(*e.follower, 2);
  e.follower->Send(2, 1, OpCode::kSync, proto::SyncRequest{"/"});
  e.follower->Send(2, 2, OpCode::kExists, proto::ExistsRequest{"/", false});
  e.Pump();
  EXPECT_TRUE(e.follower->Take(2).empty()) << "a sync (and the read behind it) waits for the leader";
  ASSERT_EQ(e.wire->syncs.size(), 1u);
  EXPECT_EQ(e.wire->syncs[0], std::make_pair(s.sessionId, 1));
  e.Call(*e.follower, [id = s.sessionId](Core& c, int64_t) { c.OnSyncDone(id, 1); });
  auto items = e.follower->Take(2);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].hdr.xid, 1);
  EXPECT_EQ(std::get<proto::SyncResponse>(items[0].body).path, "/");
  EXPECT_EQ(items[1].hdr.xid, 2);
}

TEST(CoreLearner, FollowerSyncNeverOvertakesAnEarlierWrite) {
  Ensemble e;
  const proto::ConnectResponse s = e.NewSession(*e.follower, 2);
  e.follower->Send(2, 1, OpCode::kCreate, CreateBody("/x", "v"));
  e.follower->Send(2, 2, OpCode::kSync, proto::SyncRequest{"/x"});
  e.follower->Send(2, 3, OpCode::kGetData, GetDataBody("/x"));
  e.follower->Run(e.now());
  // The leader's SYNC arrives before the write's commit reached us.
  e.Call(*e.follower, [id = s.sessionId](Core& c, int64_t) { c.OnSyncDone(id, 2); });
  EXPECT_TRUE(e.follower->Take(2).empty());
  e.Pump();
  auto items = e.follower->Take(2);
  ASSERT_EQ(items.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(items[i].hdr.xid, i + 1);
  EXPECT_EQ(std::get<proto::GetDataResponse>(items[2].body).data, "v");
}

TEST(CoreLearner, AWriteCommittedBehindASyncCompletesIt) {
  // The leader proposed the write after it saw the sync and commits in
  // order: the write's commit means everything the sync waited for is here.
  Ensemble e;
  const proto::ConnectResponse s = e.NewSession(*e.follower, 2);
  e.follower->Send(2, 1, OpCode::kSync, proto::SyncRequest{"/"});
  e.follower->Send(2, 2, OpCode::kGetData, GetDataBody("/"));
  e.follower->Send(2, 3, OpCode::kCreate, CreateBody("/y", ""));
  e.Pump();
  auto items = e.follower->Take(2);
  ASSERT_EQ(items.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(items[i].hdr.xid, i + 1);
  EXPECT_EQ(items[2].hdr.err, 0);
  // The leader's SYNC for it, arriving later, changes nothing.
  e.Call(*e.follower, [id = s.sessionId](Core& c, int64_t) { c.OnSyncDone(id, 1); });
  EXPECT_TRUE(e.follower->Take(2).empty());
}

TEST(CoreLearner, LeaderAnswersItsOwnClientsSyncAtOnce) {
  Ensemble e;
  e.NewSession(*e.leader, 1);
  e.leader->Send(1, 1, OpCode::kSync, proto::SyncRequest{"/"});
  e.leader->Run(e.now());
  auto items = e.leader->Take(1);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(std::get<proto::SyncResponse>(items[0].body).path, "/");
  EXPECT_TRUE(e.wire->syncs.empty());
}

// The leader's core: a learner's sync() forwarded behind a write reaches ZAB
// only after that write was proposed, so the SYNC cannot overtake its COMMIT.
class Recorder final : public Committer, public Forwarder {
 public:
  void Propose(txn::Txn t) override { log.push_back("propose " + std::to_string(t.cxid)); }
  void TakeCommitted(std::vector<txn::Txn>*) override {}
  void Forward(ForwardedRequest) override {}
  void AnswerLearnerSync(uint64_t conn) override { log.push_back("sync " + std::to_string(conn)); }
  std::vector<std::string> log;
};

TEST(CoreLearner, LeaderHandsALearnersSyncToZabAfterTheWritesBeforeIt) {
  Recorder rec;
  CoreOptions o = CoreHarness::DefaultOptions();
  CoreHarness leader(&rec, o);
  leader.core().SetEnsembleHooks(&rec, {});
  CoreEvent role;
  role.kind = CoreEvent::Kind::kRole;
  role.role = ServingRole::kLeader;
  role.role_epoch = 1;
  leader.Post(std::move(role));
  auto forwarded = [&](int32_t cxid, OpCode op, std::string body) {
    leader.Post(Forwarded(0x0200000000000001LL, cxid, op, std::move(body)));
  };
  proto::Request create;
  create.header = proto::RequestHeader{5, static_cast<int32_t>(OpCode::kCreate)};
  create.body = CreateBody("/w", "");
  std::string frame;
  proto::EncodeRequest(create, &frame);
  forwarded(5, OpCode::kCreate, frame.substr(12));
  forwarded(6, OpCode::kSync, std::string("\0\0\0\1/", 5));
  leader.Run(0);
  EXPECT_EQ(rec.log, (std::vector<std::string>{"propose 5", "sync 9"}));
}

// The leader's core: the consensus thread hands over what it committed
// before the learners' requests that came after it (QuorumPeer::FlushCore).
// A learner answers its client once it applied a commit, so the client's
// next write, forwarded, can reach the leader's core in the same pass as that
// commit: it is prepared after the commit is applied. A quota check credits
// only an applied delete, and a create after a delete through a follower was
// refused QUOTAEXCEEDED when the core prepared first and applied after.
TEST(CoreLearner, LeaderAppliesWhatWasCommittedBeforeALearnersRequest) {
  CoreOptions o = CoreHarness::DefaultOptions();
  o.enforce_quota = true;
  CoreHarness leader(/*held=*/true, o);
  leader.core().SetEnsembleHooks(nullptr, {});
  leader.Role(ServingRole::kLeader, 1);
  leader.Run(0);
  leader.Handshake(1, 0);
  auto write = [&](int32_t xid, OpCode op, proto::RequestBody body) {
    leader.Send(1, xid, op, std::move(body));
    leader.Run(0);
    leader.held().Release();
    leader.Run(0);
  };
  // setquota -N 2 /q, then /q/a: 2 of 2.
  write(1, OpCode::kCreate, CreateBody("/q", ""));
  write(2, OpCode::kCreate, CreateBody("/zookeeper/quota/q", ""));
  write(3, OpCode::kCreate,
        CreateBody("/zookeeper/quota/q/zookeeper_limits", "count=-1,bytes=-1;byteHardLimit=-1;countHardLimit=2"));
  write(4, OpCode::kCreate, CreateBody("/zookeeper/quota/q/zookeeper_stats", "count=0,bytes=0"));
  write(5, OpCode::kCreate, CreateBody("/q/a", ""));
  // A learner's session.
  const int64_t learner_session = 0x0200000000000001LL;
  auto forward = [&](int32_t cxid, OpCode op, std::string body) {
    leader.Post(Forwarded(learner_session, cxid, op, std::move(body)));
  };
  forward(0, OpCode::kCreateSession, std::string("\0\0\x27\x10", 4));  // timeout 10000 ms
  leader.Run(0);
  leader.held().Release();
  leader.Run(0);
  // delete /q/a is committed (released) but not applied yet when the
  // learner's create /q/b arrives: both in one pass.
  leader.Send(1, 6, OpCode::kDelete, proto::DeleteRequest{"/q/a", -1});
  leader.Run(0);
  ASSERT_EQ(leader.held().held(), 1u);
  leader.held().Release();
  proto::Request create;
  create.header = proto::RequestHeader{7, static_cast<int32_t>(OpCode::kCreate)};
  create.body = CreateBody("/q/b", "");
  std::string frame;
  proto::EncodeRequest(create, &frame);
  forward(7, OpCode::kCreate, frame.substr(12));
  leader.Run(0);
  ASSERT_EQ(leader.held().held(), 1u);
  const txn::Txn& t = leader.held().pending().front();
  EXPECT_EQ(t.session_id, learner_session);
  EXPECT_EQ(t.type, OpCode::kCreate) << "the learner's create was prepared before the delete committed ahead of it "
                                        "was applied (an error txn: QUOTAEXCEEDED)";
}

}  // namespace
}  // namespace aviary::server::testing
