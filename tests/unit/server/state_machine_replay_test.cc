// One apply everywhere: a workload run live through a Core (its txns
// applied by txn::StateMachine as they commit) and the same txns replayed
// from the write-ahead log by storage::Recover (the same StateMachine::Apply,
// fuzzy mode) give identical trees (every node's stat, data and ACL),
// session tables, last zxids and TreeDigests.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <tuple>

#include "base/clock.h"
#include "core_harness.h"
#include "log_test_util.h"
#include "storage/digest.h"
#include "storage/recovery.h"
#include "storage/wal.h"
#include "txn/state_machine.h"

namespace aviary::server::testing {
namespace {

using proto::OpCode;

// Commits at once (as LocalCommitter) and logs every txn to a Wal.
class LoggingCommitter final : public Committer {
 public:
  explicit LoggingCommitter(const std::string& dir) : wal_(storage::WalOptions{dir, false}) {
    std::string err;
    EXPECT_TRUE(wal_.Open(1, &err)) << err;
  }
  void Propose(txn::Txn t) override {
    std::string err;
    EXPECT_TRUE(wal_.Append(t, &err)) << err;
    committed_.push_back(std::move(t));
  }
  void TakeCommitted(std::vector<txn::Txn>* out) override {
    std::string err;
    EXPECT_TRUE(wal_.Sync(&err)) << err;
    for (auto& t : committed_) out->push_back(std::move(t));
    committed_.clear();
  }
  void Close() {
    std::string err;
    EXPECT_TRUE(wal_.Close(&err)) << err;
  }

 private:
  storage::Wal wal_;
  std::vector<txn::Txn> committed_;
};

class NullOutbox final : public Outbox {
 public:
  void Deliver(std::vector<net::ConnectionServer::Out>&) override {}
  void CloseNow(net::ConnId) override {}
};

using Dir = logtest::TempDir;

using StatView = std::tuple<int64_t, int64_t, int64_t, int64_t, int32_t, int32_t, int32_t, int64_t, int64_t>;
using NodeView = std::tuple<std::string, StatView, proto::AclList, int, bool, int64_t, std::set<std::string>>;
StatView ViewOf(const tree::StatPersisted& a) {
  return StatView{a.czxid, a.mzxid, a.ctime, a.mtime, a.version, a.cversion, a.aversion, a.ephemeral_owner, a.pzxid};
}
std::map<std::string, NodeView> Nodes(const tree::DataTree& t) {
  std::map<std::string, NodeView> out;
  t.ForEach([&](const std::string& path, const tree::Node& n) {
    out[path] = NodeView{std::string(n.data),
                         ViewOf(n.persisted()),
                         t.AclOf(n),
                         static_cast<int>(n.kind),
                         n.data_null,
                         n.ttl_ms(),
                         {n.children().begin(), n.children().end()}};
  });
  return out;
}

CoreEvent Req(net::ConnId conn, int32_t xid, OpCode op, proto::RequestBody body) {
  CoreEvent ev;
  ev.kind = CoreEvent::Kind::kRequest;
  ev.conn = conn;
  ev.request.header = proto::RequestHeader{xid, static_cast<int32_t>(op)};
  ev.request.body = std::move(body);
  ev.bytes = 100;
  return ev;
}

TEST(StateMachineReplay, LiveApplyAndLogReplayAgree) {
  Dir dir;
  base::ManualClock clock;
  LoggingCommitter committer(dir.path);
  NullOutbox outbox;
  CoreOptions o = CoreHarness::DefaultOptions();
  o.clock = &clock;
  o.extended_types_enabled = true;
  o.container_check_interval_ms = 5000;
  Core core(o, &committer, &outbox);
  auto run = [&](std::vector<CoreEvent> evs) {
    core.ProcessBatch(evs, clock.SteadyMs());
    clock.Advance(700);
    core.Tick(clock.SteadyMs());
  };
  // Three sessions; 3 will expire, 2 will close itself.
  for (net::ConnId c = 1; c <= 3; ++c) {
    CoreEvent open;
    open.kind = CoreEvent::Kind::kOpened;
    open.conn = c;
    open.text = "127.0.0.1:" + std::to_string(4000 + c);
    CoreEvent conn;
    conn.kind = CoreEvent::Kind::kConnect;
    conn.conn = c;
    conn.connect.timeOut = c == 3 ? 4000 : 40000;
    conn.connect.passwd.assign(16, '\0');
    run({open, conn});
  }
  const int32_t eph = static_cast<int32_t>(proto::CreateMode::kEphemeral);
  const int32_t seq = static_cast<int32_t>(proto::CreateMode::kPersistentSequential);
  const int32_t container = static_cast<int32_t>(proto::CreateMode::kContainer);
  run({Req(1, 1, OpCode::kCreate, CreateBody("/app", "root")), Req(1, 2, OpCode::kCreate, CreateBody("/app/a", "1")),
       Req(1, 3, OpCode::kCreate, CreateBody("/app/q-", "s", seq)),
       Req(1, 4, OpCode::kCreate, CreateBody("/app/q-", "s", seq)),
       Req(1, 5, OpCode::kCreate, CreateBody("/app/a", "dup")),  // NodeExists: an error txn
       Req(2, 1, OpCode::kCreate, CreateBody("/app/e2", "", eph)),
       Req(3, 1, OpCode::kCreate, CreateBody("/app/e3", "", eph)),
       Req(1, 6, OpCode::kCreateContainer, CreateBody("/box", "", container)),
       Req(1, 7, OpCode::kCreate, CreateBody("/box/x", ""))});
  proto::CreateRequest ttl = CreateBody("/ttl", "t", static_cast<int32_t>(proto::CreateMode::kPersistentWithTtl));
  ttl.ttl = 3000;
  proto::MultiRequest ok_multi;
  ok_multi.ops.push_back({OpCode::kCreate, CreateBody("/m1", "x")});
  ok_multi.ops.push_back({OpCode::kSetData, SetDataBody("/app/a", "2")});
  ok_multi.ops.push_back({OpCode::kDelete, proto::DeleteRequest{"/box/x", -1}});
  proto::MultiRequest bad_multi;
  bad_multi.ops.push_back({OpCode::kCreate, CreateBody("/m2", "x")});
  bad_multi.ops.push_back({OpCode::kDelete, proto::DeleteRequest{"/nope", -1}});
  proto::SetAclRequest acl{"/app/a", {proto::Acl{proto::perms::kRead, proto::Id{"world", "anyone"}}}, -1};
  run({Req(1, 8, OpCode::kCreateTtl, ttl), Req(1, 9, OpCode::kMulti, ok_multi), Req(1, 10, OpCode::kMulti, bad_multi),
       Req(1, 11, OpCode::kSetData, SetDataBody("/app", "v2", 0)), Req(1, 12, OpCode::kSetAcl, acl),
       Req(1, 13, OpCode::kSetData, SetDataBody("/app", "stale", 0)),  // BadVersion
       Req(2, 2, OpCode::kCloseSession, proto::Empty{})});
  // Session 3 expires, the TTL node and the emptied container are swept.
  for (int i = 0; i < 12; ++i) run({});
  EXPECT_EQ(core.tree().Find("/app/e3"), nullptr);
  EXPECT_EQ(core.tree().Find("/app/e2"), nullptr);
  EXPECT_EQ(core.tree().Find("/ttl"), nullptr);
  EXPECT_EQ(core.tree().Find("/box"), nullptr);
  ASSERT_EQ(core.state().sessions().size(), 1u);
  committer.Close();

  txn::StateMachine replayed;
  storage::RecoveryOptions ro;
  ro.snap_dir = dir.path;
  ro.log_dir = dir.path;
  const storage::RecoveryResult r = storage::Recover(ro, &replayed);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_GT(r.txns_replayed, 20u);
  EXPECT_EQ(replayed.last_zxid(), core.last_zxid());
  EXPECT_EQ(core.state().last_zxid(), core.last_zxid());
  EXPECT_FALSE(replayed.fuzzy());
  EXPECT_EQ(replayed.sessions(), core.state().sessions());
  EXPECT_EQ(Nodes(replayed.tree()), Nodes(core.tree()));
  EXPECT_EQ(storage::TreeDigest(replayed.tree()), storage::TreeDigest(core.tree()));
}

}  // namespace
}  // namespace aviary::server::testing
