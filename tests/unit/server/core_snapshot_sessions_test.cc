// A session is live until its closeSession txn is applied, so snapshots
// include closing sessions, and no ephemeral survives a restart without a
// live owner (issue 6, item 9).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include "core_harness.h"
#include "server/server.h"
#include "server/snapshotter.h"
#include "storage/recovery.h"

namespace aviary::server::testing {
namespace {

using proto::OpCode;

constexpr int64_t kT0 = 100000;
constexpr int64_t kT1 = 900000;  // after the restart
constexpr int32_t kEphemeral = static_cast<int32_t>(proto::CreateMode::kEphemeral);

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/aviary_core_snap_XXXXXX";
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::vector<int64_t> Ids(const std::vector<storage::SessionRecord>& v) {
  std::vector<int64_t> out;
  for (const auto& s : v) out.push_back(s.id);
  return out;
}

void CreateEphemeral(CoreHarness& h, net::ConnId conn, const std::string& path, int64_t now) {
  h.Send(conn, 1, OpCode::kCreate, CreateBody(path, "x", kEphemeral));
  h.Run(now);
  h.held().Release();
  h.Run(now);
}

TEST(CoreSnapshotSessions, ClosingSessionsAreSnapshottedAndExpireAfterACrash) {
  TempDir dir;
  CoreOptions o = CoreHarness::DefaultOptions();  // tick 2000
  o.fork_snapshots = false;
  o.snap_count = 1000000;
  CoreHarness h(/*held=*/true, o);
  auto snapshotter = std::make_unique<Snapshotter>(dir.path(), dir.path(), 3);
  h.core().SetSnapshotter(snapshotter.get());

  const int64_t expiring = h.Handshake(1, kT0, 4000).sessionId;  // expires by itself
  const int64_t closing = h.Handshake(2, kT0, 40000).sessionId;  // asks to close
  const int64_t staying = h.Handshake(3, kT0, 40000).sessionId;
  CreateEphemeral(h, 1, "/lock-expiring", kT0 + 1);
  CreateEphemeral(h, 2, "/lock-closing", kT0 + 1);
  CreateEphemeral(h, 3, "/lock-staying", kT0 + 1);

  h.Send(2, 2, OpCode::kCloseSession, proto::Empty{});
  h.Run(kT0 + 2);
  h.Tick(kT0 + 6000);  // the 4 s session expires
  ASSERT_EQ(h.held().held(), 2u) << "both closeSession txns proposed, neither committed";

  h.core().RequestSnapshot();
  while (h.core().SnapshotPass(kT0 + 6001)) {
  }
  h.core().SetSnapshotter(nullptr);
  snapshotter.reset();  // the file is complete once its thread is joined
  // The server dies here: neither close was ever committed.

  CoreHarness after(/*held=*/false);
  storage::RecoveryOptions ro;
  ro.snap_dir = dir.path();
  ro.log_dir = dir.path();
  storage::RecoveryResult r = storage::Recover(ro, &after.core().mutable_tree());
  ASSERT_TRUE(r.ok) << r.error;
  std::vector<int64_t> want{expiring, closing, staying};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(Ids(r.sessions), want);
  EXPECT_EQ(after.core().tree().EphemeralCount(), 3u);

  // As after any restart, sessions whose clients do not come back expire,
  // and their locks go with them.
  after.core().LoadRecovered(r.last_zxid, r.sessions, kT1);
  after.Tick(kT1 + 10000);
  EXPECT_EQ(after.core().tree().Find("/lock-expiring"), nullptr);
  EXPECT_NE(after.core().tree().Find("/lock-closing"), nullptr);  // 40 s timeout
  after.Tick(kT1 + 50000);
  EXPECT_EQ(after.core().tree().EphemeralCount(), 0u);
}

// CoreOptions::snapshot_max_queued_bytes: the walk takes no slice while more
// than that waits for the snapshot thread; with a bound of one byte every
// slice waits for the thread to drain, and the snapshot still completes and
// loads with every node.
TEST(CoreSnapshotSessions, TheWalkWaitsForItsQueueAndCompletes) {
  TempDir dir;
  CoreOptions o = CoreHarness::DefaultOptions();
  o.fork_snapshots = false;
  o.snap_count = 1000000;
  o.snapshot_nodes_per_step = 500;  // several slices
  o.snapshot_max_queued_bytes = 1;
  CoreHarness h(/*held=*/false, o);
  for (int i = 0; i < 3000; ++i) {
    txn::Txn create;
    create.zxid = i + 1;
    create.type = OpCode::kCreate;
    create.op = txn::Op{OpCode::kCreate, txn::CreateTxn{"/n" + std::to_string(i),
                                                        std::string(300, static_cast<char>('a' + i % 26)),
                                                        {proto::Acl{proto::perms::kAll, {"world", "anyone"}}},
                                                        txn::NodeKind::kPersistent,
                                                        0,
                                                        0,
                                                        -1,
                                                        false}};
    ASSERT_EQ(txn::Apply(h.core().mutable_tree(), create).err, proto::Err::kOk);
  }
  h.core().LoadRecovered(3000, {}, kT0);
  auto snapshotter = std::make_unique<Snapshotter>(dir.path(), dir.path(), 3);
  h.core().SetSnapshotter(snapshotter.get());
  h.core().RequestSnapshot();
  int waits = 0;
  while (h.core().SnapshotPass(kT0 + 1)) waits += snapshotter->QueuedBytes() > 1;
  EXPECT_GT(waits, 0) << "the walk never found its queue full";
  h.core().SetSnapshotter(nullptr);
  snapshotter.reset();  // the file is complete once its thread is joined
  CoreHarness after(/*held=*/false);
  storage::RecoveryOptions ro;
  ro.snap_dir = ro.log_dir = dir.path();
  storage::RecoveryResult r = storage::Recover(ro, &after.core().mutable_tree());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.snapshot_zxid, 3000);
  EXPECT_EQ(after.core().tree().NodeCount(), h.core().tree().NodeCount());
}

TEST(CoreSnapshotSessions, RepairedOwnerExpiresAfterTheMinimumTimeout) {
  // --repair restores an orphan's owner with timeout 0 ("unknown"): it gets
  // the minimum session timeout (4 s here), then its ephemeral is deleted by
  // an ordinary closeSession txn.
  CoreHarness h;
  txn::Txn create;
  create.session_id = 0x77;
  create.zxid = 1;
  create.type = OpCode::kCreate;
  create.op = txn::Op{OpCode::kCreate, txn::CreateTxn{"/orphan",
                                                      "",
                                                      {proto::Acl{proto::perms::kAll, {"world", "anyone"}}},
                                                      txn::NodeKind::kEphemeral,
                                                      0x77,
                                                      0,
                                                      -1,
                                                      false}};
  ASSERT_EQ(txn::Apply(h.core().mutable_tree(), create).err, proto::Err::kOk);
  h.core().LoadRecovered(1, {{0x77, 0}}, kT0);
  h.Tick(kT0 + 2000);
  EXPECT_NE(h.core().tree().Find("/orphan"), nullptr) << "expired before the minimum session timeout";
  h.Tick(kT0 + 6000);
  EXPECT_EQ(h.core().tree().Find("/orphan"), nullptr);
  EXPECT_EQ(h.core().last_zxid(), 2);  // by a logged closeSession txn
}

TEST(CoreSnapshotSessions, RecoveredSessionsAreKeptPastALoweredSessionLimit) {
  // Committed sessions all come back even if aviary.maxSessions was lowered
  // meanwhile (dropping one would orphan its ephemerals); new ones wait.
  CoreOptions o = CoreHarness::DefaultOptions();
  o.max_sessions = 1;
  CoreHarness h(/*held=*/false, o);
  h.core().LoadRecovered(5, {{0x11, 10000}, {0x22, 10000}}, kT0);
  h.Open(1);
  h.Connect(1, 10000);
  h.Run(kT0 + 1);
  EXPECT_TRUE(h.IsClosed(1));
  EXPECT_EQ(h.core().last_zxid(), 5);
  h.FourLetter(9, "mntr");
  h.Run(kT0 + 2);
  ASSERT_FALSE(h.Items(9).empty());
  EXPECT_NE(h.Items(9)[0].raw.find("zk_global_sessions\t2"), std::string::npos) << h.Items(9)[0].raw;
}

TEST(ServerRecovery, OrphanEphemeralStopsTheStartUnlessRepair) {
  TempDir dir;
  {
    tree::DataTree t;
    txn::Txn parent;
    parent.zxid = 1;
    parent.type = OpCode::kCreate;
    parent.op = txn::Op{OpCode::kCreate, txn::CreateTxn{"/app",
                                                        "",
                                                        {proto::Acl{proto::perms::kAll, {"world", "anyone"}}},
                                                        txn::NodeKind::kPersistent,
                                                        0,
                                                        0,
                                                        -1,
                                                        false}};
    txn::Txn lock = parent;
    lock.zxid = 2;
    lock.session_id = 0x77;
    auto& c = std::get<txn::CreateTxn>(lock.op.body);
    c.path = "/app/lock";
    c.kind = txn::NodeKind::kEphemeral;
    c.ephemeral_owner = 0x77;
    txn::Apply(t, parent);
    txn::Apply(t, lock);
    storage::SnapshotBuilder b(2, {});
    storage::SnapshotFileWriter w;
    std::string err, chunk;
    ASSERT_TRUE(w.Begin(dir.path(), 2, &err)) << err;
    while (!b.Step(t, 100, &chunk)) {
    }
    ASSERT_TRUE(w.Write(chunk + b.Finish(), &err) && w.Commit(&err)) << err;
  }
  auto options = [&](bool repair) {
    ServerOptions o;
    o.net.port = 0;
    o.core.password_secret = 42;
    o.data_dir = dir.path();
    o.force_sync = false;
    o.prealloc_bytes = 4096;
    o.repair = repair;
    return o;
  };
  {
    Server srv(options(false));
    std::string err;
    EXPECT_FALSE(srv.Start(&err));
    EXPECT_NE(err.find("/app/lock (session 0x77)"), std::string::npos) << err;
    EXPECT_NE(err.find("Start with --repair"), std::string::npos) << err;
    EXPECT_EQ(err.find("skip the corrupt part"), std::string::npos) << err;
  }
  {
    Server srv(options(true));
    std::string err;
    EXPECT_TRUE(srv.Start(&err)) << err;
    srv.Stop();
  }
}

}  // namespace
}  // namespace aviary::server::testing
