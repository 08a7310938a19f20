// Core driven directly: handshake, zxid accounting, reconnect, expiry,
// closeSession, protocol errors, auth and four-letter words.
#include <gtest/gtest.h>

#include "core_harness.h"
#include "txn/acl.h"

namespace aviary::server::testing {
namespace {

using proto::Err;
using proto::OpCode;
using Kind = Item::Kind;

constexpr int64_t kT0 = 100000;
constexpr int32_t kEphemeral = static_cast<int32_t>(proto::CreateMode::kEphemeral);

int32_t E(Err e) { return static_cast<int32_t>(e); }

TEST(CoreSession, HandshakeCreatesSession) {
  CoreHarness h;
  proto::ConnectResponse rsp = h.Handshake(1, kT0, 10000);
  EXPECT_NE(rsp.sessionId, 0);
  EXPECT_EQ(rsp.protocolVersion, 0);
  EXPECT_EQ(rsp.timeOut, 10000);
  EXPECT_EQ(rsp.passwd.size(), 16u);
  EXPECT_NE(rsp.passwd, std::string(16, '\0'));
  EXPECT_FALSE(h.IsClosed(1));
  EXPECT_EQ(h.core().last_zxid(), 1);  // createSession consumed one zxid

  // The session works: a ping is answered with the current zxid.
  h.Send(1, -2, OpCode::kPing, proto::Empty{});
  h.Run(kT0 + 10);
  auto items = h.Take(1);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].kind, Kind::kReply);
  EXPECT_EQ(items[1].hdr.xid, -2);
  EXPECT_EQ(items[1].hdr.zxid, 1);
  EXPECT_EQ(items[1].hdr.err, 0);
}

TEST(CoreSession, NegotiatedTimeoutIsClampedToTwoAndTwentyTicks) {
  CoreHarness h;  // tick 2000, min 4000, max 40000
  proto::ConnectResponse low = h.Handshake(1, kT0, 1000);
  proto::ConnectResponse high = h.Handshake(2, kT0, 1000000);
  proto::ConnectResponse mid = h.Handshake(3, kT0, 12345);
  EXPECT_EQ(low.timeOut, 4000);
  EXPECT_EQ(high.timeOut, 40000);
  EXPECT_EQ(mid.timeOut, 12345);
  EXPECT_NE(low.sessionId, high.sessionId);
  EXPECT_NE(high.sessionId, mid.sessionId);
  EXPECT_EQ(h.core().last_zxid(), 3);
}

TEST(CoreSession, ZxidPerWriteIncludingFailedOnesAndNoneForReads) {
  CoreHarness h;
  h.Handshake(1, kT0);
  h.Take(1);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/a", "v0"));
  h.Send(1, 2, OpCode::kCreate, CreateBody("/a", "again"));  // NodeExists: still a txn
  h.Send(1, 3, OpCode::kGetData, GetDataBody("/a"));
  h.Send(1, 4, OpCode::kExists, proto::ExistsRequest{"/missing", false});
  h.Send(1, 5, OpCode::kSetData, SetDataBody("/a", "v1", 0));
  h.Send(1, 6, OpCode::kDelete, proto::DeleteRequest{"/missing", -1});  // NoNode: still a txn
  h.Send(1, 7, OpCode::kGetChildren, proto::GetChildrenRequest{"/", false});
  h.Run(kT0 + 1);
  auto items = h.Take(1);
  ASSERT_EQ(items.size(), 7u);
  for (size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(items[i].kind, Kind::kReply);
    EXPECT_EQ(items[i].hdr.xid, static_cast<int32_t>(i + 1)) << "replies in request order";
  }
  EXPECT_EQ(items[0].hdr.zxid, 2);
  EXPECT_EQ(items[0].hdr.err, 0);
  EXPECT_EQ(std::get<proto::CreateResponse>(items[0].body).path, "/a");
  EXPECT_EQ(items[1].hdr.zxid, 3);
  EXPECT_EQ(items[1].hdr.err, E(Err::kNodeExists));
  EXPECT_EQ(items[2].hdr.zxid, 3);  // a read reports the last applied zxid
  EXPECT_EQ(items[2].hdr.err, 0);
  EXPECT_EQ(std::get<proto::GetDataResponse>(items[2].body).data, "v0");
  EXPECT_EQ(items[3].hdr.zxid, 3);
  EXPECT_EQ(items[3].hdr.err, E(Err::kNoNode));
  EXPECT_EQ(items[4].hdr.zxid, 4);
  EXPECT_EQ(items[4].hdr.err, 0);
  const proto::Stat& st = std::get<proto::StatResponse>(items[4].body).stat;
  EXPECT_EQ(st.mzxid, 4);
  EXPECT_EQ(st.czxid, 2);
  EXPECT_EQ(st.version, 1);
  EXPECT_EQ(items[5].hdr.zxid, 5);
  EXPECT_EQ(items[5].hdr.err, E(Err::kNoNode));
  EXPECT_EQ(items[6].hdr.zxid, 5);
  EXPECT_EQ(h.core().last_zxid(), 5);

  h.Handshake(2, kT0 + 2);
  EXPECT_EQ(h.core().last_zxid(), 6);
}

TEST(CoreSession, ReconnectWithPasswordKeepsSessionAndEphemerals) {
  CoreHarness h;
  proto::ConnectResponse a = h.Handshake(1, kT0, 10000);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/e", "x", kEphemeral));
  h.Run(kT0 + 1);
  h.Disconnect(1);
  h.Run(kT0 + 2);
  const int64_t zxid = h.core().last_zxid();

  h.Open(2);
  h.Connect(2, 10000, a.sessionId, a.passwd);
  h.Run(kT0 + 3);
  auto items = h.Take(2);
  ASSERT_EQ(items.size(), 1u);
  ASSERT_EQ(items[0].kind, Kind::kConnect);
  EXPECT_EQ(items[0].connect.sessionId, a.sessionId);
  EXPECT_EQ(items[0].connect.timeOut, 10000);
  EXPECT_EQ(items[0].connect.passwd, a.passwd);
  EXPECT_EQ(h.core().last_zxid(), zxid);  // re-attaching is not a txn

  h.Send(2, 1, OpCode::kGetData, GetDataBody("/e"));
  h.Run(kT0 + 4);
  items = h.Take(2);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].hdr.err, 0);
  EXPECT_EQ(std::get<proto::GetDataResponse>(items[0].body).stat.ephemeralOwner, a.sessionId);
  EXPECT_FALSE(h.IsClosed(2));
}

// BUG (src/server/core_session.cc, Core::OnConnect, re-attach branch):
// DetachConn(old) sets the session's `conn` to 0 and the very next line calls
// outbox_->CloseNow(st.conn), i.e. CloseNow(0): the old connection is never
// closed (it lingers, detached, until it sends something) and the network is
// asked to close connection id 0. Fix: remember `net::ConnId old = st.conn`
// before DetachConn and close `old`.
TEST(CoreSession, ReconnectWhileOldConnectionOpenClosesTheOldOne) {
  CoreHarness h;
  proto::ConnectResponse a = h.Handshake(1, kT0);
  h.Open(2);
  h.Connect(2, 10000, a.sessionId, a.passwd);
  h.Run(kT0 + 1);
  EXPECT_TRUE(h.IsClosed(1));
  EXPECT_FALSE(h.IsClosed(0)) << "no connection has id 0";
  EXPECT_FALSE(h.IsClosed(2));
  ASSERT_FALSE(h.Items(2).empty());
  EXPECT_EQ(h.Items(2).back().connect.sessionId, a.sessionId);
}

// What works today: the new connection owns the session, the old one is
// detached (its next request closes it) and no longer receives events.
TEST(CoreSession, ReconnectWhileOldConnectionOpenMovesTheSession) {
  CoreHarness h;
  proto::ConnectResponse a = h.Handshake(1, kT0);
  h.Handshake(3, kT0);
  h.Send(1, 1, OpCode::kExists, proto::ExistsRequest{"/moved", true});
  h.Run(kT0 + 1);
  h.Take(1);
  h.Open(2);
  h.Connect(2, 10000, a.sessionId, a.passwd);
  h.Run(kT0 + 2);
  auto items = h.Take(2);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].connect.sessionId, a.sessionId);
  h.Send(3, 1, OpCode::kCreate, CreateBody("/moved", ""));
  h.Run(kT0 + 3);
  auto old = h.Take(1);
  for (const auto& i : old) EXPECT_NE(i.kind, Kind::kEvent) << "detached connection got an event";
  h.Send(1, 2, OpCode::kExists, proto::ExistsRequest{"/", false});
  h.Run(kT0 + 4);
  EXPECT_TRUE(h.IsClosed(1));
  h.Send(2, 1, OpCode::kExists, proto::ExistsRequest{"/moved", false});
  h.Run(kT0 + 5);
  items = h.Take(2);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].hdr.err, 0);
}

TEST(CoreSession, WrongPasswordGetsTimeoutZeroAndClose) {
  CoreHarness h;
  proto::ConnectResponse a = h.Handshake(1, kT0);
  std::string bad = a.passwd;
  bad[0] = static_cast<char>(bad[0] ^ 1);
  h.Open(2);
  h.Connect(2, 10000, a.sessionId, bad);
  h.Open(3);
  h.Connect(3, 10000, a.sessionId + 1000, a.passwd);  // unknown session
  h.Run(kT0 + 1);
  for (net::ConnId c : {2, 3}) {
    auto items = h.Take(c);
    ASSERT_EQ(items.size(), 2u) << c;
    EXPECT_EQ(items[0].kind, Kind::kConnect);
    EXPECT_EQ(items[0].connect.timeOut, 0);
    EXPECT_EQ(items[0].connect.sessionId, 0);
    EXPECT_EQ(items[0].connect.passwd, std::string(16, '\0'));
    EXPECT_EQ(items[1].kind, Kind::kClose);
  }
  // The real owner is untouched.
  EXPECT_FALSE(h.IsClosed(1));
  h.Send(1, 1, OpCode::kExists, proto::ExistsRequest{"/", false});
  h.Run(kT0 + 2);
  EXPECT_EQ(h.Items(1).back().hdr.err, 0);
}

TEST(CoreSession, ExpiryDeletesEphemeralsAndFiresNodeDeleted) {
  CoreHarness h;                                         // tick 2000
  proto::ConnectResponse a = h.Handshake(1, kT0, 4000);  // expires at bucket 106000
  h.Handshake(2, kT0, 4000);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/eph", "x", kEphemeral));
  h.Run(kT0 + 1000);
  h.Send(2, 1, OpCode::kGetData, GetDataBody("/eph", true));
  h.Run(kT0 + 1000);
  h.Take(1);
  auto items = h.Take(2);
  ASSERT_EQ(items.back().hdr.err, 0);

  h.Send(2, -2, OpCode::kPing, proto::Empty{});  // keeps B alive until 110000
  h.Run(kT0 + 5000);
  h.Take(2);
  const int64_t zxid = h.core().last_zxid();

  h.Tick(kT0 + 5999);
  EXPECT_NE(h.core().tree().Find("/eph"), nullptr) << "expired too early";
  EXPECT_TRUE(h.Take(2).empty());

  h.Tick(kT0 + 6000);
  EXPECT_EQ(h.core().tree().Find("/eph"), nullptr);
  EXPECT_EQ(h.core().last_zxid(), zxid + 1);  // the expiry closeSession txn
  items = h.Take(2);
  ASSERT_EQ(items.size(), 1u);
  ASSERT_EQ(items[0].kind, Kind::kEvent);
  EXPECT_EQ(items[0].event().type, static_cast<int32_t>(proto::EventType::kNodeDeleted));
  EXPECT_EQ(items[0].event().path, "/eph");
  EXPECT_EQ(items[0].event().state, static_cast<int32_t>(proto::KeeperState::kSyncConnected));
  EXPECT_TRUE(h.IsClosed(1));
  EXPECT_FALSE(h.IsClosed(2));

  // The expired session can no longer be resumed.
  h.Open(3);
  h.Connect(3, 4000, a.sessionId, a.passwd);
  h.Run(kT0 + 6001);
  items = h.Take(3);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].connect.timeOut, 0);
  EXPECT_EQ(items[1].kind, Kind::kClose);
}

TEST(CoreSession, CloseSessionRepliesThenCloses) {
  CoreHarness h;
  proto::ConnectResponse a = h.Handshake(1, kT0);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/e", "x", kEphemeral));
  h.Send(1, 2, OpCode::kCloseSession, proto::Empty{});
  h.Run(kT0 + 1);
  auto items = h.Take(1);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].kind, Kind::kConnect);
  EXPECT_EQ(items[1].hdr.xid, 1);
  EXPECT_EQ(items[2].kind, Kind::kReply);
  EXPECT_EQ(items[2].hdr.xid, 2);
  EXPECT_EQ(items[2].hdr.err, 0);
  EXPECT_EQ(items[2].hdr.zxid, 3);
  EXPECT_EQ(items[3].kind, Kind::kClose);
  EXPECT_EQ(h.core().tree().Find("/e"), nullptr);
  EXPECT_EQ(h.core().tree().EphemeralCount(), 0u);

  h.Open(2);
  h.Connect(2, 10000, a.sessionId, a.passwd);
  h.Run(kT0 + 2);
  items = h.Take(2);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].connect.timeOut, 0);
  EXPECT_EQ(items[1].kind, Kind::kClose);
}

TEST(CoreSession, UnknownOpcodeIsUnimplementedWithZxidMinusOneThenClose) {
  CoreHarness h;
  h.Handshake(1, kT0);
  h.Take(1);
  const int64_t zxid = h.core().last_zxid();
  h.Send(1, 7, static_cast<OpCode>(999), proto::Empty{});
  h.Run(kT0 + 1);
  auto items = h.Take(1);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].kind, Kind::kReply);
  EXPECT_EQ(items[0].hdr.xid, 7);
  EXPECT_EQ(items[0].hdr.zxid, -1);
  EXPECT_EQ(items[0].hdr.err, E(Err::kUnimplemented));
  EXPECT_EQ(items[1].kind, Kind::kClose);
  EXPECT_EQ(h.core().last_zxid(), zxid);
}

TEST(CoreSession, RequestBeforeHandshakeClosesConnection) {
  CoreHarness h;
  h.Open(1);
  h.Send(1, 1, OpCode::kGetData, GetDataBody("/"));
  h.Run(kT0);
  auto items = h.Take(1);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, Kind::kClose);
  EXPECT_EQ(h.core().last_zxid(), 0);
}

TEST(CoreSession, DigestAuthThenAclProtectedRead) {
  CoreHarness h;
  h.Handshake(1, kT0);
  h.Handshake(2, kT0);
  proto::AclList acl{proto::Acl{proto::perms::kAll, proto::Id{"digest", txn::DigestId("alice", "pw")}}};
  h.Send(1, 1, OpCode::kCreate, CreateBody("/secret", "s3cr3t", 0, acl));
  h.Run(kT0 + 1);
  h.Take(1);
  h.Take(2);

  h.Send(2, 1, OpCode::kGetData, GetDataBody("/secret"));
  h.Run(kT0 + 2);
  auto items = h.Take(2);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].hdr.err, E(Err::kNoAuth));

  h.Send(2, proto::xid::kAuth, OpCode::kAuth, proto::AuthPacket{0, "digest", "alice:pw"});
  h.Send(2, 2, OpCode::kGetData, GetDataBody("/secret"));
  h.Run(kT0 + 3);
  items = h.Take(2);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].hdr.xid, proto::xid::kAuth);
  EXPECT_EQ(items[0].hdr.err, 0);
  EXPECT_EQ(items[1].hdr.xid, 2);
  ASSERT_EQ(items[1].hdr.err, 0);
  EXPECT_EQ(std::get<proto::GetDataResponse>(items[1].body).data, "s3cr3t");

  // An unknown scheme fails and closes the connection.
  h.Send(1, proto::xid::kAuth, OpCode::kAuth, proto::AuthPacket{0, "kerberos", "x"});
  h.Run(kT0 + 4);
  items = h.Take(1);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].hdr.err, E(Err::kAuthFailed));
  EXPECT_EQ(items[1].kind, Kind::kClose);
}

TEST(CoreSession, FourLetterWords) {
  CoreHarness h;
  h.Handshake(1, kT0);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/a", ""));
  h.Run(kT0 + 1);

  h.Open(8);
  h.FourLetter(8, "ruok");
  h.Open(9);
  h.FourLetter(9, "srvr");
  h.Run(kT0 + 2);
  auto ruok = h.Take(8);
  ASSERT_EQ(ruok.size(), 2u);
  EXPECT_EQ(ruok[0].kind, Kind::kRaw);
  EXPECT_EQ(ruok[0].raw, "imok");
  EXPECT_EQ(ruok[1].kind, Kind::kClose);
  auto srvr = h.Take(9);
  ASSERT_EQ(srvr.size(), 2u);
  EXPECT_NE(srvr[0].raw.find("Zxid: 0x2\n"), std::string::npos) << srvr[0].raw;
  EXPECT_NE(srvr[0].raw.find("Mode: standalone"), std::string::npos) << srvr[0].raw;
  EXPECT_EQ(srvr[1].kind, Kind::kClose);
}

}  // namespace
}  // namespace aviary::server::testing
