// Read-only mode on the core (issue 7, item 3; core_read_only.cc): a Core
// told ServingRole::kReadOnly serves as ZooKeeper 3.8's
// ReadOnlyZooKeeperServer: only canBeReadOnly clients, readOnly=true in the
// ConnectResponse, reads from its tree, NOTREADONLY (-119) for sync and
// every write, local sessions that are never replicated and end with the
// mode, and the four-letter words say so (isro "ro", Mode: read-only).
#include <gtest/gtest.h>

#include "core_harness.h"

namespace aviary::server::testing {
namespace {

using proto::Err;
using proto::OpCode;
using Kind = Item::Kind;

constexpr int64_t kT0 = 1'000'000;
constexpr int32_t kEphemeral = static_cast<int32_t>(proto::CreateMode::kEphemeral);
constexpr int32_t kNotReadOnly = static_cast<int32_t>(Err::kNotReadOnly);

// A standalone core with /ro/data ("before"), a session that owns the
// ephemeral /ro/eph and one that owns nothing; then the core is told to
// serve read-only (as QuorumPeer does after the LOOKING delay).
struct ReadOnlyCore {
  CoreHarness h;
  proto::ConnectResponse owner;  // owns /ro/eph
  proto::ConnectResponse plain;  // owns nothing
  int64_t zxid = 0;

  ReadOnlyCore() {
    owner = h.Handshake(1, kT0);
    plain = h.Handshake(2, kT0);
    h.Send(1, 1, OpCode::kCreate, CreateBody("/ro", ""));
    h.Send(1, 2, OpCode::kCreate, CreateBody("/ro/data", "before"));
    h.Send(1, 3, OpCode::kCreate, CreateBody("/ro/eph", "", kEphemeral));
    h.Run(kT0);
    zxid = h.core().last_zxid();
    h.Take(1);
    h.Take(2);
    h.Role(ServingRole::kReadOnly);
    h.Run(kT0 + 10);
  }

  // A read-only client's handshake on a fresh connection.
  std::vector<Item> Connect(net::ConnId conn, int64_t session = 0, std::string passwd = std::string(16, '\0'),
                            bool read_only = true, int64_t last_zxid_seen = 0, int64_t now_ms = kT0 + 20) {
    h.Open(conn);
    h.Connect(conn, 10000, session, std::move(passwd), read_only, last_zxid_seen);
    h.Run(now_ms);
    return h.Take(conn);
  }

  std::string Word(net::ConnId conn, const std::string& word) {
    h.Open(conn);
    h.FourLetter(conn, word);
    h.Run(kT0 + 30);
    auto items = h.Take(conn);
    return items.empty() ? std::string() : items[0].raw;
  }
};

TEST(CoreReadOnly, RoleChangeClosesEveryConnection) {
  CoreHarness h;
  h.Handshake(1, kT0);
  h.Role(ServingRole::kReadOnly);
  h.Run(kT0 + 1);
  EXPECT_TRUE(h.IsClosed(1));
}

TEST(CoreReadOnly, ClientWithoutCanBeReadOnlyIsRefused) {
  ReadOnlyCore r;
  auto items = r.Connect(10, 0, std::string(16, '\0'), /*read_only=*/false);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, Kind::kClose) << "no ConnectResponse for a not-read-only client";
}

TEST(CoreReadOnly, NewSessionIsLocalReadOnlyAndServesReads) {
  ReadOnlyCore r;
  auto items = r.Connect(10);
  ASSERT_EQ(items.size(), 1u);
  ASSERT_EQ(items[0].kind, Kind::kConnect);
  const proto::ConnectResponse& rsp = items[0].connect;
  EXPECT_TRUE(rsp.readOnly);
  EXPECT_NE(rsp.sessionId, 0);
  EXPECT_EQ(rsp.timeOut, 10000);
  // Local: no createSession txn, not in the replicated session table.
  EXPECT_EQ(r.h.core().last_zxid(), r.zxid);
  EXPECT_EQ(r.h.core().state().sessions().count(rsp.sessionId), 0u);

  r.h.Send(10, 1, OpCode::kGetData, GetDataBody("/ro/data"));
  r.h.Send(10, 2, OpCode::kGetChildren, proto::GetChildrenRequest{"/ro", false});
  r.h.Send(10, 3, OpCode::kExists, proto::ExistsRequest{"/ro/none", false});
  proto::MultiRequest mr;
  mr.ops.push_back(proto::MultiOp{OpCode::kGetData, proto::GetDataRequest{"/ro/data", false}});
  r.h.Send(10, 4, OpCode::kMultiRead, mr);
  r.h.Run(kT0 + 30);
  items = r.h.Take(10);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].hdr.err, 0);
  EXPECT_EQ(items[0].hdr.zxid, r.zxid);
  EXPECT_EQ(std::get<proto::GetDataResponse>(items[0].body).data, "before");
  EXPECT_EQ(std::get<proto::GetChildrenResponse>(items[1].body).children.size(), 2u);
  EXPECT_EQ(items[2].hdr.err, static_cast<int32_t>(Err::kNoNode));
  EXPECT_EQ(items[3].hdr.err, 0) << "multiRead is a read";
}

TEST(CoreReadOnly, SyncAndEveryWriteAreAnsweredNotReadOnly) {
  ReadOnlyCore r;
  ASSERT_EQ(r.Connect(10).size(), 1u);
  int32_t xid = 0;
  auto send = [&](OpCode op, proto::RequestBody body) { r.h.Send(10, ++xid, op, std::move(body)); };
  send(OpCode::kCreate, CreateBody("/ro/new", ""));
  send(OpCode::kCreate2, CreateBody("/ro/new2", ""));
  send(OpCode::kDelete, proto::DeleteRequest{"/ro/data", -1});
  send(OpCode::kSetData, SetDataBody("/ro/data", "after"));
  send(OpCode::kSetAcl, proto::SetAclRequest{"/ro/data", {proto::Acl{proto::perms::kAll, {"world", "anyone"}}}, -1});
  send(OpCode::kCheck, proto::CheckVersionRequest{"/ro/data", 0});
  proto::MultiRequest m;
  m.ops.push_back(proto::MultiOp{OpCode::kCheck, proto::CheckVersionRequest{"/ro/data", 0}});
  send(OpCode::kMulti, m);
  send(OpCode::kSync, proto::SyncRequest{"/ro"});
  send(OpCode::kReconfig, proto::ReconfigRequest{});
  send(OpCode::kGetData, GetDataBody("/ro/data"));  // still served, in order
  r.h.Run(kT0 + 30);
  auto items = r.h.Take(10);
  ASSERT_EQ(items.size(), static_cast<size_t>(xid));
  for (int i = 0; i + 1 < xid; ++i) {
    EXPECT_EQ(items[i].hdr.xid, i + 1);
    EXPECT_EQ(items[i].hdr.err, kNotReadOnly) << "op " << static_cast<int>(items[i].op);
    EXPECT_EQ(items[i].hdr.zxid, r.zxid) << "NOTREADONLY carries the last applied zxid";
  }
  EXPECT_EQ(items.back().hdr.err, 0);
  EXPECT_EQ(std::get<proto::GetDataResponse>(items.back().body).data, "before");
  EXPECT_FALSE(r.h.IsClosed(10));
  EXPECT_EQ(r.h.core().last_zxid(), r.zxid) << "nothing was proposed";
}

TEST(CoreReadOnly, LocalSessionClosesHereAndCannotComeBack) {
  ReadOnlyCore r;
  auto c = r.Connect(10);
  ASSERT_EQ(c.size(), 1u);
  const proto::ConnectResponse rsp = c[0].connect;
  r.h.Send(10, 1, OpCode::kCloseSession, proto::Empty{});
  r.h.Run(kT0 + 30);
  auto items = r.h.Take(10);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].hdr.err, 0);
  EXPECT_EQ(items[1].kind, Kind::kClose);
  auto again = r.Connect(11, rsp.sessionId, rsp.passwd);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].connect.sessionId, 0) << "a closed local session is invalid";
  EXPECT_EQ(again[0].connect.timeOut, 0);
  EXPECT_EQ(again[1].kind, Kind::kClose);
}

TEST(CoreReadOnly, LocalSessionReattachesWithItsPassword) {
  ReadOnlyCore r;
  const proto::ConnectResponse rsp = r.Connect(10)[0].connect;
  auto bad = r.Connect(11, rsp.sessionId, std::string(16, 'x'));
  ASSERT_FALSE(bad.empty());
  EXPECT_EQ(bad[0].connect.sessionId, 0);
  auto good = r.Connect(12, rsp.sessionId, rsp.passwd);
  ASSERT_EQ(good.size(), 1u);
  EXPECT_EQ(good[0].connect.sessionId, rsp.sessionId);
  EXPECT_TRUE(good[0].connect.readOnly);
  EXPECT_TRUE(r.h.IsClosed(10)) << "the session moved off its old connection";
}

TEST(CoreReadOnly, EnsembleSessionOwningEphemeralsIsRefusedOtherServedReadOnly) {
  ReadOnlyCore r;
  auto owner = r.Connect(10, r.owner.sessionId, r.owner.passwd);
  ASSERT_EQ(owner.size(), 1u);
  EXPECT_EQ(owner[0].kind, Kind::kClose) << "Refusing global session reconnection in RO mode";
  auto plain = r.Connect(11, r.plain.sessionId, r.plain.passwd);
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].connect.sessionId, r.plain.sessionId);
  EXPECT_TRUE(plain[0].connect.readOnly);
  // Its closeSession is the ensemble's: refused, and the session stays.
  r.h.Send(11, 1, OpCode::kCloseSession, proto::Empty{});
  r.h.Run(kT0 + 30);
  auto items = r.h.Take(11);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].hdr.err, kNotReadOnly);
  EXPECT_EQ(r.h.core().state().sessions().count(r.plain.sessionId), 1u);
}

TEST(CoreReadOnly, ClientThatSawANewerZxidIsRefused) {
  ReadOnlyCore r;
  auto items = r.Connect(10, 0, std::string(16, '\0'), true, r.zxid + 1);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, Kind::kClose);
  EXPECT_EQ(r.Connect(11, 0, std::string(16, '\0'), true, r.zxid).size(), 1u);
}

TEST(CoreReadOnly, LocalSessionsExpireHereEnsembleSessionsDoNot) {
  ReadOnlyCore r;
  const proto::ConnectResponse local = r.Connect(10)[0].connect;
  const int64_t later = kT0 + 60'000;  // past every timeout
  r.h.Tick(later);
  EXPECT_TRUE(r.h.IsClosed(10));
  auto again = r.Connect(11, local.sessionId, local.passwd, true, 0, later);
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again[0].connect.sessionId, 0) << "the expired local session is gone";
  // The ensemble's sessions are not expired by a read-only server.
  EXPECT_EQ(r.h.core().state().sessions().size(), 2u);
  EXPECT_EQ(r.h.core().last_zxid(), r.zxid);
  auto plain = r.Connect(12, r.plain.sessionId, r.plain.passwd, true, 0, later + 1);
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].connect.sessionId, r.plain.sessionId);
}

TEST(CoreReadOnly, FourLetterWordsSayReadOnly) {
  ReadOnlyCore r;
  EXPECT_EQ(r.Word(50, "isro"), "ro");
  const std::string srvr = r.Word(51, "srvr");
  EXPECT_NE(srvr.find("READ-ONLY mode; serving only read-only clients\n"), std::string::npos) << srvr;
  EXPECT_NE(srvr.find("Mode: read-only\n"), std::string::npos) << srvr;
  r.Connect(10);
  const std::string mntr = r.Word(52, "mntr");
  EXPECT_NE(mntr.find("zk_server_state\tread-only\n"), std::string::npos) << mntr;
  EXPECT_NE(mntr.find("zk_local_sessions\t1\n"), std::string::npos) << mntr;
  EXPECT_NE(mntr.find("zk_global_sessions\t2\n"), std::string::npos) << mntr;
}

TEST(CoreReadOnly, QuorumBackEndsTheModeAndItsLocalSessions) {
  ReadOnlyCore r;
  const proto::ConnectResponse local = r.Connect(10)[0].connect;
  r.h.Role(ServingRole::kNotServing);  // the election ended; syncing
  r.h.Run(kT0 + 40);
  EXPECT_TRUE(r.h.IsClosed(10));
  EXPECT_EQ(r.Connect(11, 0, std::string(16, '\0'), true, 0, kT0 + 41)[0].kind, Kind::kClose)
      << "not serving while syncing";
  r.h.Role(ServingRole::kLeader, 2);
  r.h.Run(kT0 + 50);
  EXPECT_EQ(r.Word(50, "isro"), "rw");
  auto back = r.Connect(12, local.sessionId, local.passwd, true, 0, kT0 + 51);
  ASSERT_FALSE(back.empty());
  EXPECT_EQ(back[0].connect.sessionId, 0) << "a read-only session does not outlive the mode";
  EXPECT_FALSE(back[0].connect.readOnly);
  auto plain = r.Connect(13, r.plain.sessionId, r.plain.passwd, true, 0, kT0 + 52);
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].connect.sessionId, r.plain.sessionId) << "the ensemble's sessions go on";
  EXPECT_FALSE(plain[0].connect.readOnly);
  r.h.Send(13, 1, OpCode::kSetData, SetDataBody("/ro/data", "after"));
  r.h.Run(kT0 + 53);
  auto items = r.h.Take(13);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].hdr.err, 0);
  EXPECT_EQ(items[0].hdr.zxid >> 32, 2) << "written in the new leader's epoch";
}

}  // namespace
}  // namespace aviary::server::testing
