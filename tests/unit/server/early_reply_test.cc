// Early replies (Committer::ProposeWithReply, DurableCommitter's sink): a
// setData's reply goes to the client the moment its txn is committed,
// before the core applies it, carrying the Stat the apply then gives; the
// core answers it only when its connection's order allows that (nothing of
// the connection's in this pass's output, nothing but early writes queued
// in its session, no watch of the connection's), and only accounts for it
// at apply.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core_harness.h"

namespace aviary::server::testing {
namespace {

using proto::OpCode;
using Kind = Item::Kind;

constexpr int64_t kT0 = 100000;

// A harness whose held committer sends early replies to the harness itself.
struct EarlyHarness {
  explicit EarlyHarness(bool early) : h(/*held=*/true) {
    if (early) h.held().set_early_sink([this](std::vector<net::ConnectionServer::Out>& b) { h.Deliver(b); });
  }
  CoreHarness h;
};

proto::Stat StatOf(const Item& i) { return std::get<proto::StatResponse>(i.body).stat; }

// Creates /a and /a/c1 for session 1 (committed and applied).
void MakeTree(CoreHarness& h) {
  h.Handshake(1, kT0);
  h.Handshake(2, kT0);
  h.Take(1);
  h.Take(2);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/a", "v0"));
  h.Send(1, 2, OpCode::kCreate, CreateBody("/a/c1", ""));
  h.Run(kT0 + 1);
  h.held().Release();
  h.Run(kT0 + 2);
  ASSERT_EQ(h.Take(1).size(), 2u);
}

// Session 1 sets `path` (xid), the pass prepares it and it is committed:
// not yet applied.
void CommitSet(CoreHarness& h, int32_t xid, const std::string& path, const std::string& data, int64_t now_ms) {
  h.Send(1, xid, OpCode::kSetData, SetDataBody(path, data));
  h.Run(now_ms);
  h.held().Release();
}

// `conn` reads `path` with a watch (answered at once).
void Watch(CoreHarness& h, net::ConnId conn, int32_t xid, const std::string& path, int64_t now_ms) {
  h.Send(conn, xid, OpCode::kGetData, GetDataBody(path, /*watch=*/true));
  h.Run(now_ms);
  ASSERT_EQ(h.Take(conn).size(), 1u);
}

TEST(EarlyReply, SetDataIsAnsweredWhenCommittedWithTheStatItsApplyGives) {
  EarlyHarness early(true), normal(false);
  for (EarlyHarness* e : {&early, &normal}) {
    MakeTree(e->h);
    e->h.Send(1, 3, OpCode::kSetData, SetDataBody("/a", "x"));
    e->h.Send(1, 4, OpCode::kSetData, SetDataBody("/a", "yy", 1));
    e->h.Run(kT0 + 3);
    EXPECT_TRUE(e->h.Take(1).empty()) << "nothing before the txns are committed";
    e->h.held().Release();
  }
  // Committed: the early replies are out before the core ran again.
  auto got = early.h.Take(1);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(early.h.held().early_sent(), 2);
  EXPECT_TRUE(normal.h.Take(1).empty());
  early.h.Run(kT0 + 4);
  normal.h.Run(kT0 + 4);
  EXPECT_TRUE(early.h.Take(1).empty()) << "the core does not answer them again";
  auto want = normal.h.Take(1);
  ASSERT_EQ(want.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(got[i].kind, Kind::kReply);
    EXPECT_EQ(got[i].hdr.xid, want[i].hdr.xid);
    EXPECT_EQ(got[i].hdr.zxid, want[i].hdr.zxid);
    EXPECT_EQ(got[i].hdr.err, 0);
    // Equal but for the wall-clock times (each harness reads the clock
    // itself; the exists below checks them against the tree).
    proto::Stat g = StatOf(got[i]), w = StatOf(want[i]);
    g.ctime = w.ctime;
    g.mtime = w.mtime;
    EXPECT_EQ(g, w) << "xid " << got[i].hdr.xid;
  }
  EXPECT_EQ(StatOf(got[1]).version, 2);
  EXPECT_EQ(StatOf(got[1]).dataLength, 2);
  EXPECT_EQ(StatOf(got[1]).numChildren, 1);
  // And the tree agrees once applied.
  early.h.Send(1, 5, OpCode::kExists, proto::ExistsRequest{"/a", false});
  early.h.Run(kT0 + 5);
  auto ex = early.h.Take(1);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(StatOf(ex[0]), StatOf(got[1]));
}

TEST(EarlyReply, RequestsQueuedBehindAnEarlyWriteAreAnsweredAfterItsApply) {
  EarlyHarness e(true);
  CoreHarness& h = e.h;
  MakeTree(h);
  h.Send(1, 3, OpCode::kSetData, SetDataBody("/a", "new"));
  h.Send(1, 4, OpCode::kGetData, GetDataBody("/a"));
  h.Send(1, 5, OpCode::kSetData, SetDataBody("/a", "newer"));  // behind a read: answered by the core
  h.Run(kT0 + 3);
  h.held().Release();
  auto first = h.Take(1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].hdr.xid, 3);
  h.Run(kT0 + 4);
  auto rest = h.Take(1);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].hdr.xid, 4);
  EXPECT_EQ(std::get<proto::GetDataResponse>(rest[0].body).data, "new");
  EXPECT_EQ(rest[1].hdr.xid, 5);
  EXPECT_EQ(h.held().early_sent(), 1);
  EXPECT_EQ(h.core().Backlog(), 0);
  EXPECT_EQ(h.Credit(1), 6u) << "every frame handed back: the handshake, two creates, these three";
}

TEST(EarlyReply, NotWhenTheConnectionsOrderForbidsIt) {
  EarlyHarness e(true);
  CoreHarness& h = e.h;
  MakeTree(h);
  // A read answered earlier in the same pass: its reply is not out yet.
  h.Send(1, 3, OpCode::kExists, proto::ExistsRequest{"/a", false});
  CommitSet(h, 4, "/a", "p", kT0 + 3);
  EXPECT_EQ(h.held().early_sent(), 0);
  ASSERT_EQ(h.Take(1).size(), 1u) << "the exists only";
  h.Run(kT0 + 4);
  ASSERT_EQ(h.Take(1).size(), 1u);

  // A write that is not answered early queued ahead of it.
  h.Send(1, 5, OpCode::kCreate, CreateBody("/a/c2", ""));
  CommitSet(h, 6, "/a", "q", kT0 + 5);
  EXPECT_EQ(h.held().early_sent(), 0);
  h.Run(kT0 + 6);
  auto two = h.Take(1);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].hdr.xid, 5);
  EXPECT_EQ(two[1].hdr.xid, 6);

  // A failing set (bad version) is an error txn: the core answers it.
  h.Send(1, 7, OpCode::kSetData, SetDataBody("/a", "r", 99));
  h.Run(kT0 + 7);
  h.held().Release();
  EXPECT_EQ(h.held().early_sent(), 0);
  h.Run(kT0 + 8);
  auto bad = h.Take(1);
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].hdr.err, static_cast<int32_t>(proto::Err::kBadVersion));

  // A connection with a watch: an event of an earlier txn could follow.
  Watch(h, 1, 8, "/a/c1", kT0 + 9);
  CommitSet(h, 9, "/a", "s", kT0 + 10);
  EXPECT_EQ(h.held().early_sent(), 0);
  h.Run(kT0 + 11);
  ASSERT_EQ(h.Take(1).size(), 1u);
}

// A client that saw an early reply may sync() and read on this server
// before the core applied that write: the sync waits until everything
// committed when it came is applied, and the read behind it sees the write.
TEST(EarlyReply, SyncWaitsUntilWhatIsCommittedIsApplied) {
  EarlyHarness e(true);
  CoreHarness& h = e.h;
  MakeTree(h);
  CommitSet(h, 3, "/a", "new", kT0 + 3);
  auto set = h.Take(1);
  ASSERT_EQ(set.size(), 1u);
  // Committed, replied, not applied: session 2 syncs and reads in one pass.
  h.Send(2, 1, OpCode::kSync, proto::SyncRequest{"/a"});
  h.Send(2, 2, OpCode::kGetData, GetDataBody("/a"));
  h.Send(2, 3, OpCode::kSetData, SetDataBody("/a", "later"));  // behind the sync: not early
  h.Run(kT0 + 4);
  auto got = h.Take(2);
  ASSERT_EQ(got.size(), 2u) << "the sync and the read (the set behind them is only prepared)";
  EXPECT_EQ(got[0].hdr.xid, 1);
  EXPECT_GE(got[0].hdr.zxid, set[0].hdr.zxid);
  EXPECT_EQ(got[1].hdr.xid, 2);
  EXPECT_EQ(std::get<proto::GetDataResponse>(got[1].body).data, "new");
  h.held().Release();
  EXPECT_EQ(h.held().early_sent(), 1);
  h.Run(kT0 + 5);
  auto last = h.Take(2);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].hdr.xid, 3);
  // With nothing committed and unapplied, a sync is answered at once.
  h.Send(2, 4, OpCode::kSync, proto::SyncRequest{"/a"});
  h.Run(kT0 + 6);
  ASSERT_EQ(h.Take(2).size(), 1u);
}

// A set that fires a watch (another connection's, on the node or a
// recursive one above it) is answered after its apply, as ZooKeeper does:
// the watchers' events go out before the writer's reply. A watch elsewhere
// does not stop an early reply.
TEST(EarlyReply, NotWhenTheSetFiresAWatch) {
  EarlyHarness e(true);
  CoreHarness& h = e.h;
  MakeTree(h);
  Watch(h, 2, 1, "/a/c1", kT0 + 3);  // elsewhere
  CommitSet(h, 3, "/a", "w", kT0 + 4);
  ASSERT_EQ(h.Take(1).size(), 1u);
  EXPECT_EQ(h.held().early_sent(), 1);
  h.Run(kT0 + 5);
  EXPECT_TRUE(h.Take(2).empty());

  // On the node itself.
  Watch(h, 2, 2, "/a", kT0 + 6);
  CommitSet(h, 4, "/a", "x", kT0 + 7);
  EXPECT_TRUE(h.Take(1).empty()) << "not before the apply";
  EXPECT_EQ(h.held().early_sent(), 1);
  h.Run(kT0 + 8);
  ASSERT_EQ(h.Take(1).size(), 1u);
  auto ev = h.Take(2);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::kEvent);
  EXPECT_EQ(ev[0].event().path, "/a");

  // A recursive watch above it.
  h.Send(2, 3, OpCode::kAddWatch,
         proto::AddWatchRequest{"/", static_cast<int32_t>(proto::AddWatchMode::kPersistentRecursive)});
  h.Run(kT0 + 9);
  ASSERT_EQ(h.Take(2).size(), 1u);
  CommitSet(h, 5, "/a/c1", "y", kT0 + 10);
  EXPECT_TRUE(h.Take(1).empty());
  EXPECT_EQ(h.held().early_sent(), 1);
  h.Run(kT0 + 11);
  ASSERT_EQ(h.Take(1).size(), 1u);
  ASSERT_EQ(h.Take(2).size(), 1u);
}

}  // namespace
}  // namespace aviary::server::testing
