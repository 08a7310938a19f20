// Core driven directly with a committer that holds proposals: per-session
// FIFO, pipelined prepare ahead of apply, and watch-event ordering.
#include <gtest/gtest.h>

#include <functional>

#include "core_harness.h"

namespace aviary::server::testing {
namespace {

using proto::Err;
using proto::OpCode;
using Kind = Item::Kind;

constexpr int64_t kT0 = 100000;
constexpr int32_t kEphemeral = static_cast<int32_t>(proto::CreateMode::kEphemeral);

// Reply slices (CoreOptions::reply_slice): the replies of a committed group
// go to the network part way through its apply, between two sessions' txns,
// once `slice` reply buffers are queued; every guarantee holds across the
// cut: a session's replies in order (a read behind its write after it, with
// the write's result), a watch event before the reply that observes it.
void RunSlicedGroup(int32_t slice, int want_deliveries) {
  CoreOptions o = CoreHarness::DefaultOptions();
  o.reply_slice = slice;
  CoreHarness h(/*held=*/true, o);
  for (net::ConnId c = 1; c <= 3; ++c) h.Handshake(c, kT0);
  h.Send(2, 1, OpCode::kExists, proto::ExistsRequest{"/w", true});
  h.Run(kT0 + 1);
  for (net::ConnId c = 1; c <= 3; ++c) h.Take(c);

  h.Send(1, 1, OpCode::kCreate, CreateBody("/w", "v"));
  h.Send(1, 2, OpCode::kGetData, GetDataBody("/w"));  // behind the write
  h.Send(2, 2, OpCode::kSetData, SetDataBody("/w", "u", 0));
  h.Send(3, 1, OpCode::kCreate, CreateBody("/x", "x"));
  h.Send(3, 2, OpCode::kCreate, CreateBody("/y", "y"));  // the same session: one run
  h.Run(kT0 + 2);
  EXPECT_EQ(h.held().held(), 4u);
  const int before = h.deliveries();
  h.held().Release();
  h.Run(kT0 + 3);
  EXPECT_EQ(h.deliveries() - before, want_deliveries) << "slice " << slice;

  auto a = h.Take(1);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].hdr.xid, 1);
  EXPECT_EQ(a[0].hdr.err, 0);
  EXPECT_EQ(a[1].hdr.xid, 2);
  EXPECT_EQ(std::get<proto::GetDataResponse>(a[1].body).data, "v");
  auto b = h.Take(2);
  ASSERT_EQ(b.size(), 2u);
  ASSERT_EQ(b[0].kind, Kind::kEvent) << "the event comes before B's own reply";
  EXPECT_EQ(b[0].event().type, static_cast<int32_t>(proto::EventType::kNodeCreated));
  EXPECT_EQ(b[1].hdr.xid, 2);
  EXPECT_EQ(b[1].hdr.err, 0);
  EXPECT_EQ(std::get<proto::StatResponse>(b[1].body).stat.version, 1);
  auto c = h.Take(3);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].hdr.xid, 1);
  EXPECT_EQ(c[1].hdr.xid, 2);
  // Every answered frame went back as credit (handshake, exists, and these).
  EXPECT_EQ(h.Credit(1), 3u);
  EXPECT_EQ(h.Credit(2), 3u);
  EXPECT_EQ(h.Credit(3), 3u);
}

TEST(CorePipeline, ReplySlicesHandAGroupOverInPartsInOrder) {
  RunSlicedGroup(0, 1);  // off: the pass's one delivery
  // One buffer is enough: cut after session 1's txn (its write and read),
  // after session 2's (B's event and reply), then the pass's end.
  RunSlicedGroup(1, 3);
  // Two: cut after session 1's txn (B's event and A's replies: two
  // buffers), not after session 2's (one), then the pass's end.
  RunSlicedGroup(2, 2);
  RunSlicedGroup(64, 1);  // never reached
}

TEST(CorePipeline, ReadWaitsForEarlierWriteOfSameSession) {
  CoreHarness h(/*held=*/true);
  h.Handshake(1, kT0);
  h.Handshake(2, kT0);
  h.Take(1);
  h.Take(2);

  h.Send(1, 1, OpCode::kCreate, CreateBody("/a", "v"));
  h.Send(1, 2, OpCode::kGetData, GetDataBody("/a"));
  h.Send(1, 3, OpCode::kExists, proto::ExistsRequest{"/a", false});
  h.Send(2, 1, OpCode::kGetData, GetDataBody("/"));  // other session: not blocked
  h.Run(kT0 + 1);
  EXPECT_TRUE(h.Take(1).empty()) << "A's read must wait for A's uncommitted write";
  auto b = h.Take(2);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].hdr.xid, 1);
  EXPECT_EQ(b[0].hdr.err, 0);
  EXPECT_EQ(b[0].hdr.zxid, 2);  // the last applied zxid: both createSessions
  EXPECT_EQ(h.held().held(), 1u);

  h.held().Release();
  h.Run(kT0 + 2);
  auto a = h.Take(1);
  ASSERT_EQ(a.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(a[i].hdr.xid, i + 1);
  EXPECT_EQ(a[0].hdr.zxid, 3);
  EXPECT_EQ(a[0].hdr.err, 0);
  ASSERT_EQ(a[1].hdr.err, 0);
  EXPECT_EQ(std::get<proto::GetDataResponse>(a[1].body).data, "v");
  EXPECT_EQ(a[1].hdr.zxid, 3);
  EXPECT_EQ(a[2].hdr.err, 0);
}

TEST(CorePipeline, WritesPreparedAheadOfApplySeePendingChanges) {
  CoreHarness h(/*held=*/true);
  h.Handshake(1, kT0);
  h.Take(1);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/p", "0"));
  h.Send(1, 2, OpCode::kCreate, CreateBody("/p/c", "child"));  // parent only pending
  h.Send(1, 3, OpCode::kSetData, SetDataBody("/p", "1", 0));   // version of a pending node
  h.Send(1, 4, OpCode::kCreate, CreateBody("/p", "dup"));      // exists in the overlay
  h.Send(1, 5, OpCode::kGetChildren, proto::GetChildrenRequest{"/p", false});
  h.Run(kT0 + 1);
  EXPECT_EQ(h.held().held(), 4u) << "four txns prepared before any is applied";
  EXPECT_EQ(h.core().last_zxid(), 1);
  EXPECT_TRUE(h.Take(1).empty());

  // Commit one at a time: each reply leaves as soon as its own txn applies,
  // and the trailing read only after the last write.
  std::vector<Item> all;
  for (int i = 0; i < 4; ++i) {
    h.held().Release(1);
    h.Run(kT0 + 2 + i);
    auto got = h.Take(1);
    ASSERT_EQ(got.size(), i == 3 ? 2u : 1u) << i;
    EXPECT_EQ(got[0].hdr.xid, i + 1);
    for (auto& g : got) all.push_back(std::move(g));
  }
  EXPECT_EQ(all[0].hdr.zxid, 2);
  EXPECT_EQ(all[0].hdr.err, 0);
  EXPECT_EQ(all[1].hdr.zxid, 3);
  EXPECT_EQ(all[1].hdr.err, 0);
  EXPECT_EQ(all[2].hdr.zxid, 4);
  EXPECT_EQ(all[2].hdr.err, 0);
  EXPECT_EQ(std::get<proto::StatResponse>(all[2].body).stat.version, 1);
  EXPECT_EQ(all[3].hdr.zxid, 5);
  EXPECT_EQ(all[3].hdr.err, static_cast<int32_t>(Err::kNodeExists));
  EXPECT_EQ(all[4].hdr.xid, 5);
  EXPECT_EQ(std::get<proto::GetChildrenResponse>(all[4].body).children, std::vector<std::string>{"c"});
  EXPECT_EQ(h.core().last_zxid(), 5);
}

TEST(CorePipeline, WatchEventPrecedesReplyThatObservesTheChange) {
  CoreHarness h(/*held=*/true);
  h.Handshake(1, kT0);  // A
  h.Handshake(2, kT0);  // B
  h.Send(2, 1, OpCode::kCreate, CreateBody("/w", "old"));
  h.Run(kT0 + 1);
  h.held().Release();
  h.Run(kT0 + 1);
  h.Send(1, 1, OpCode::kGetData, GetDataBody("/w", /*watch=*/true));
  h.Run(kT0 + 2);
  h.Take(1);
  h.Take(2);

  // B changes /w (held). A reads before the commit: old data, no event yet.
  h.Send(2, 2, OpCode::kSetData, SetDataBody("/w", "new"));
  h.Send(1, 2, OpCode::kGetData, GetDataBody("/w"));
  h.Run(kT0 + 3);
  auto a = h.Take(1);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].kind, Kind::kReply);
  EXPECT_EQ(std::get<proto::GetDataResponse>(a[0].body).data, "old");

  // A queues a write and a read behind it, so its read runs after B's commit.
  h.Send(1, 3, OpCode::kCreate, CreateBody("/x", ""));
  h.Send(1, 4, OpCode::kGetData, GetDataBody("/w"));
  h.Run(kT0 + 4);
  EXPECT_TRUE(h.Take(1).empty());

  h.held().Release();
  h.Run(kT0 + 5);
  a = h.Take(1);
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(a[0].kind, Kind::kEvent) << "the event comes first";
  EXPECT_EQ(a[0].event().type, static_cast<int32_t>(proto::EventType::kNodeDataChanged));
  EXPECT_EQ(a[0].event().path, "/w");
  EXPECT_EQ(a[1].hdr.xid, 3);
  EXPECT_EQ(a[2].hdr.xid, 4);
  EXPECT_EQ(std::get<proto::GetDataResponse>(a[2].body).data, "new");
  EXPECT_EQ(std::get<proto::GetDataResponse>(a[2].body).stat.version, 1);
  auto b = h.Take(2);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].hdr.xid, 2);
  EXPECT_EQ(b[0].hdr.zxid, 4);
  EXPECT_EQ(a[1].hdr.zxid, 5);
  EXPECT_EQ(a[0].hdr.zxid, -1);  // notifications carry zxid -1
}

TEST(CorePipeline, WatchEventPrecedesReadReplyInSameBatchWithLocalCommitter) {
  CoreHarness h;
  h.Handshake(1, kT0);
  h.Handshake(2, kT0);
  h.Send(2, 1, OpCode::kCreate, CreateBody("/w", "old"));
  h.Run(kT0 + 1);
  h.Send(1, 1, OpCode::kGetData, GetDataBody("/w", true));
  h.Run(kT0 + 2);
  h.Take(1);
  h.Send(2, 2, OpCode::kSetData, SetDataBody("/w", "new"));
  h.Run(kT0 + 3);
  h.Send(1, 2, OpCode::kGetData, GetDataBody("/w"));
  h.Run(kT0 + 4);
  auto a = h.Take(1);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].kind, Kind::kEvent);
  EXPECT_EQ(a[1].hdr.xid, 2);
  EXPECT_EQ(std::get<proto::GetDataResponse>(a[1].body).data, "new");
  EXPECT_GE(a[1].hdr.zxid, std::get<proto::GetDataResponse>(a[1].body).stat.mzxid);
}

TEST(CorePipeline, AllRepliesOfOneBatchLeaveInOneDelivery) {
  CoreHarness h;
  h.Handshake(1, kT0);
  const int before = h.deliveries();
  for (int i = 1; i <= 20; ++i) h.Send(1, i, OpCode::kCreate, CreateBody("/n" + std::to_string(i), ""));
  h.Run(kT0 + 1);
  EXPECT_EQ(h.deliveries(), before + 1);
  auto items = h.Take(1);
  ASSERT_EQ(items.size(), 21u);
  for (int i = 1; i <= 20; ++i) {
    EXPECT_EQ(items[i].hdr.xid, i);
    EXPECT_EQ(items[i].hdr.zxid, i + 1);
  }
}

// BUG (src/server/core_request.cc, Core::OnRequest / ProposeWrite): the core
// does no session-validity check before preparing a write (prepare.h says
// "Session checks ... are the caller's job"). A create-ephemeral pipelined
// behind closeSession of the same session is prepared after the close txn
// listed the session's ephemerals, so applying it creates an ephemeral whose
// owner no longer exists: the node is never deleted. ZooKeeper marks the
// session closing when it prepares closeSession and fails later requests of
// that session with SESSIONEXPIRED (PrepRequestProcessor checkSession).
TEST(CorePipeline, NoEphemeralSurvivesItsSessionsClose) {
  CoreHarness h;
  h.Handshake(1, kT0);
  h.Send(1, 1, OpCode::kCloseSession, proto::Empty{});
  h.Send(1, 2, OpCode::kCreate, CreateBody("/leak", "", kEphemeral));
  h.Run(kT0 + 1);
  EXPECT_EQ(h.core().tree().Find("/leak"), nullptr);
  EXPECT_EQ(h.core().tree().EphemeralCount(), 0u);
}

// Same root cause on the expiry path, visible with a committer that does not
// commit at once (replication / a write-ahead log): the session expires
// (closeSession proposed, not yet applied) and a request of that session
// that arrives in the meantime is still prepared as a normal write.
TEST(CorePipeline, NoEphemeralCreatedByExpiringSession) {
  CoreHarness h(/*held=*/true);
  h.Handshake(1, kT0, 4000);  // bucket 106000
  h.Tick(kT0 + 6000);         // expiry proposed, held
  EXPECT_EQ(h.held().held(), 1u);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/leak", "", kEphemeral));
  h.Run(kT0 + 6001);
  h.held().Release();
  h.Run(kT0 + 6002);
  EXPECT_EQ(h.core().tree().Find("/leak"), nullptr);
  EXPECT_EQ(h.core().tree().EphemeralCount(), 0u);
}

// BUG (src/server/core_request.cc, Core::OnRequest, the `c.session == 0`
// branch): a request that arrives while the connection's createSession txn
// is still uncommitted (conn.handshaking) closes the connection. ZooKeeper
// stops reading a connection from the ConnectRequest until the session is
// established (ZooKeeperServer.processConnectRequest: cnxn.disableRecv()),
// so a request pipelined right behind the handshake is answered after the
// ConnectResponse. Through server::Server both frames arrive in one batch
// whenever the client writes them together.
TEST(CorePipeline, RequestPipelinedBehindHandshakeIsAnswered) {
  CoreHarness h;
  h.Open(1);
  h.Connect(1, 10000);
  h.Send(1, 1, OpCode::kExists, proto::ExistsRequest{"/", false});
  h.Run(kT0);
  auto items = h.Take(1);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].kind, Kind::kConnect);
  EXPECT_EQ(items[1].kind, Kind::kReply);
  EXPECT_EQ(items[1].hdr.err, 0);
}

}  // namespace
}  // namespace aviary::server::testing

namespace aviary::server::testing {
namespace {

// A log failure (fsync/EIO): writes waiting for it are answered NOTREADONLY,
// the reads queued behind them still run, later writes are refused at once,
// reads go on, and no new session can start.
TEST(CorePipeline, StorageFailureRefusesWritesAndKeepsReads) {
  CoreHarness h(/*held=*/true);
  h.Handshake(1, kT0);
  h.Handshake(2, kT0);
  h.Take(1);
  h.Take(2);

  h.Send(1, 1, OpCode::kCreate, CreateBody("/a", "v"));
  h.Send(1, 2, OpCode::kGetData, GetDataBody("/"));
  h.Run(kT0 + 1);
  EXPECT_TRUE(h.Take(1).empty());
  h.held().Fail();
  h.Run(kT0 + 2);
  auto a = h.Take(1);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].hdr.xid, 1);
  EXPECT_EQ(a[0].hdr.err, static_cast<int32_t>(proto::Err::kNotReadOnly));
  EXPECT_EQ(a[1].hdr.xid, 2);
  EXPECT_EQ(a[1].hdr.err, 0);

  h.Send(2, 1, OpCode::kSetData, proto::SetDataRequest{"/", "x", -1});
  h.Send(2, 2, OpCode::kExists, proto::ExistsRequest{"/a", false});
  h.Run(kT0 + 3);
  auto b = h.Take(2);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].hdr.err, static_cast<int32_t>(proto::Err::kNotReadOnly));
  EXPECT_EQ(b[1].hdr.err, static_cast<int32_t>(proto::Err::kNoNode));  // the failed create never applied
  EXPECT_EQ(h.held().held(), 0u);

  h.Open(3);
  h.Connect(3, 10000);
  h.Run(kT0 + 4);
  EXPECT_TRUE(h.IsClosed(3));
}

// Commits a pass's proposals only at EndOfPass, and only when the core says
// it is idle (as DurableCommitter writes a group itself); records each call.
class PassCommitter final : public Committer {
 public:
  void Propose(txn::Txn t) override { proposed_.push_back(std::move(t)); }
  bool EndOfPass(bool core_idle) override {
    calls.push_back(core_idle);
    if (!core_idle || proposed_.empty()) return false;
    for (auto& t : proposed_) committed_.push_back(std::move(t));
    proposed_.clear();
    if (during_sync) during_sync();
    return true;
  }
  void TakeCommitted(std::vector<txn::Txn>* out) override {
    for (auto& t : committed_) out->push_back(std::move(t));
    committed_.clear();
  }
  std::vector<bool> calls;
  std::function<void()> during_sync;  // runs while "syncing" on the core thread

 private:
  std::vector<txn::Txn> proposed_;
  std::vector<txn::Txn> committed_;
};

// The core submits a pass's writes before it takes what is committed, so a
// committer that makes them durable at EndOfPass answers them in the same
// pass; it is told whether other input waits.
TEST(CorePipeline, WritesOfAPassAreSubmittedBeforeCommitsAreTaken) {
  PassCommitter pc;
  CoreHarness h(&pc, CoreHarness::DefaultOptions());
  h.Handshake(1, kT0);
  ASSERT_FALSE(h.Take(1).empty());  // the createSession, too, in its own pass
  h.Send(1, 1, OpCode::kCreate, CreateBody("/a", "v"));
  h.Send(1, 2, OpCode::kSetData, SetDataBody("/a", "w"));
  h.Send(1, 3, OpCode::kGetData, GetDataBody("/a"));
  pc.calls.clear();
  h.Run(kT0 + 1);
  auto got = h.Take(1);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].hdr.err, 0);
  EXPECT_EQ(std::get<proto::GetDataResponse>(got[2].body).data, "w");
  ASSERT_FALSE(pc.calls.empty());
  EXPECT_TRUE(pc.calls.front());

  // Input waiting in the inbox: the core says it is not idle.
  std::vector<CoreEvent> waiting(1);
  waiting[0].kind = CoreEvent::Kind::kClosed;
  waiting[0].conn = 99;
  h.core().Post(waiting);
  h.Send(1, 4, OpCode::kSetData, SetDataBody("/a", "x"));
  pc.calls.clear();
  h.Run(kT0 + 2);
  EXPECT_TRUE(h.Take(1).empty());
  ASSERT_FALSE(pc.calls.empty());
  EXPECT_FALSE(pc.calls.front());
}

// Input that arrives while the core makes a group durable itself means
// other clients are active: for a while groups go to the storage thread.
TEST(CorePipeline, InputDuringAnInlineSyncBacksOffToTheStorageThread) {
  PassCommitter pc;
  CoreHarness h(&pc, CoreHarness::DefaultOptions());
  h.Handshake(1, kT0);
  h.Take(1);
  Core& core = h.core();
  pc.during_sync = [&core] {
    std::vector<CoreEvent> arrived(1);
    arrived[0].kind = CoreEvent::Kind::kClosed;
    arrived[0].conn = 99;
    core.Post(arrived);
  };
  h.Send(1, 1, OpCode::kCreate, CreateBody("/a", "v"));
  h.Run(kT0 + 1);
  ASSERT_EQ(h.Take(1).size(), 1u);  // synced on the core thread
  pc.during_sync = nullptr;
  std::vector<CoreEvent> drained;
  core.TakeInbox(&drained);  // (the harness runs batches itself)
  ASSERT_EQ(drained.size(), 1u);
  const int64_t within = kT0 + Core::kInlineSyncBackoffMs;
  auto idle_of_next_pass = [&](int64_t now, int32_t xid) {
    h.Send(1, xid, OpCode::kSetData, SetDataBody("/a", "w"));
    pc.calls.clear();
    h.Run(now);
    return !pc.calls.empty() && pc.calls.front();
  };
  EXPECT_FALSE(idle_of_next_pass(within, 2));
  EXPECT_TRUE(idle_of_next_pass(kT0 + 1 + Core::kInlineSyncBackoffMs, 3));
}

}  // namespace
}  // namespace aviary::server::testing
