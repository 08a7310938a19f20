// Quorum SASL (peer/quorum_auth.h): the learner and server state machines
// against each other over Cyrus DIGEST-MD5, their refusals, hostile bytes,
// and both transports with it: election connections and learner->leader
// connections authenticate, a wrong password is refused, and with the
// require flags off an unauthenticated member is let through.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>

#include "peer/election_transport.h"
#include "peer/quorum_auth.h"
#include "peer/quorum_transport.h"
#include "peer_test_util.h"
#include "quorum/codec.h"

namespace aviary::peer {
namespace {

using testing::FreePort;
using testing::WaitFor;

QuorumSaslSettings Settings(bool learner_require, bool server_require, std::string password = "s3cret") {
  QuorumSaslSettings s;
  s.enable = true;
  s.learner_require = learner_require;
  s.server_require = server_require;
  s.learner = {"learner", std::move(password)};
  s.server.digest_users["learner"] = "s3cret";
  s.timeout_ms = 3000;
  return s;
}

std::shared_ptr<const QuorumSasl> Make(const QuorumSaslSettings& s) {
  std::string error;
  auto ctx = MakeQuorumSasl(s, &error);
  EXPECT_NE(ctx, nullptr) << error;
  return ctx;
}

struct Outcome {
  QuorumAuthLearner::Result learner = QuorumAuthLearner::Result::kNeedMore;
  QuorumAuthServer::Result server = QuorumAuthServer::Result::kNeedMore;
  std::string learner_error, server_error, user;
  int packets = 0;
};

// Runs the exchange in memory, with `after` following the learner's last packet.
Outcome Exchange(const QuorumSasl& lctx, const QuorumSasl& sctx, const std::string& after = "") {
  QuorumAuthLearner l(lctx);
  QuorumAuthServer s(sctx);
  Outcome o;
  std::string to_server, to_learner;
  o.learner = l.Start(&to_server);
  for (int round = 0; round < 20 && o.learner == QuorumAuthLearner::Result::kNeedMore; ++round) {
    o.packets++;
    o.server = s.OnInput(&to_server, &to_learner);
    o.learner = l.OnInput(&to_learner, &to_server);  // after a refusal: the ERROR
  }
  if (o.learner == QuorumAuthLearner::Result::kSuccess) {
    to_server += after;
    EXPECT_EQ(s.OnInput(&to_server, &to_learner), o.server);
    EXPECT_EQ(to_server, after);  // what follows the exchange is the caller's
  }
  o.learner_error = l.error();
  o.server_error = s.error();
  o.user = s.user();
  return o;
}

TEST(QuorumSasl, DigestMd5Succeeds) {
  auto ctx = Make(Settings(true, true));
  Outcome o = Exchange(*ctx, *ctx, "FOLLOWERINFO");
  EXPECT_EQ(o.learner, QuorumAuthLearner::Result::kSuccess) << o.learner_error;
  EXPECT_EQ(o.server, QuorumAuthServer::Result::kAuthenticated) << o.server_error;
  EXPECT_EQ(o.user, "learner");
  EXPECT_EQ(o.packets, 2);  // empty token -> challenge, response -> SUCCESS + rspauth
}

TEST(QuorumSasl, WrongPasswordOrUnknownUserIsRefused) {
  auto server = Make(Settings(true, true));
  auto bad = Make(Settings(true, true, "wrong"));
  Outcome o = Exchange(*bad, *server);
  EXPECT_EQ(o.learner, QuorumAuthLearner::Result::kFailure);
  EXPECT_EQ(o.server, QuorumAuthServer::Result::kRefused);
  EXPECT_NE(o.learner_error.find("ERROR"), std::string::npos) << o.learner_error;
  QuorumSaslSettings stranger = Settings(true, true);
  stranger.learner.user = "stranger";
  Outcome u = Exchange(*Make(stranger), *server);
  EXPECT_EQ(u.server, QuorumAuthServer::Result::kRefused);
  // Without serverRequireSasl the failed learner is let through (it closes itself).
  auto lenient = Make(Settings(true, false));
  Outcome l = Exchange(*bad, *lenient);
  EXPECT_EQ(l.learner, QuorumAuthLearner::Result::kFailure);
  EXPECT_EQ(l.server, QuorumAuthServer::Result::kUnauthenticated);
  EXPECT_FALSE(l.server_error.empty());
}

TEST(QuorumSasl, APeerThatDoesNotAuthenticate) {
  // Its first frame (here a notification length) is not the magic.
  const std::string frame("\0\0\0\x28notification...", 19);
  auto strict = Make(Settings(true, true));
  QuorumAuthServer s(*strict);
  std::string in = frame.substr(0, 5), out;
  EXPECT_EQ(s.OnInput(&in, &out), QuorumAuthServer::Result::kNeedMore);  // fewer than 8 bytes
  in = frame;
  EXPECT_EQ(s.OnInput(&in, &out), QuorumAuthServer::Result::kRefused);
  EXPECT_NE(s.error().find("serverRequireSasl"), std::string::npos);
  auto lenient = Make(Settings(false, false));
  QuorumAuthServer l(*lenient);
  in = frame;
  EXPECT_EQ(l.OnInput(&in, &out), QuorumAuthServer::Result::kUnauthenticated);
  EXPECT_EQ(in, frame);  // untouched: the caller parses it
  EXPECT_TRUE(out.empty());
  QuorumAuthServer eof(*lenient);
  EXPECT_EQ(eof.OnEof("closed"), QuorumAuthServer::Result::kUnauthenticated);
  QuorumAuthServer eof_strict(*strict);
  EXPECT_EQ(eof_strict.OnEof("closed"), QuorumAuthServer::Result::kRefused);
}

TEST(QuorumSasl, HostileBytesAreRefusedNeverCrash) {
  auto ctx = Make(Settings(true, true));
  // A huge token length after the magic.
  quorum::QuorumAuthPacket p;
  std::string wire;
  quorum::EncodeQuorumAuthPacket(p, &wire);
  std::string huge = wire.substr(0, 12) + std::string("\x7f\xff\xff\xff", 4);
  QuorumAuthServer s(*ctx);
  std::string out;
  EXPECT_EQ(s.OnInput(&huge, &out), QuorumAuthServer::Result::kRefused);
  // Garbage tokens: Cyrus refuses; the server answers ERROR.
  for (const std::string& token :
       {std::string("x"), std::string(5000, 'a'), std::string("username=\"a\",username=\"b\"")}) {
    QuorumAuthServer g(*ctx);
    std::string in, reply;
    quorum::QuorumAuthPacket first;
    quorum::EncodeQuorumAuthPacket(first, &in);  // empty: the challenge comes back
    EXPECT_EQ(g.OnInput(&in, &reply), QuorumAuthServer::Result::kNeedMore);
    quorum::QuorumAuthPacket bad;
    bad.token = token;
    quorum::EncodeQuorumAuthPacket(bad, &in);
    EXPECT_EQ(g.OnInput(&in, &reply), QuorumAuthServer::Result::kRefused) << token.substr(0, 40);
  }
  // The learner: an unknown status, a null challenge, garbage.
  for (int32_t status : {7, -1}) {
    QuorumAuthLearner l(*ctx);
    std::string to_server, in;
    ASSERT_EQ(l.Start(&to_server), QuorumAuthLearner::Result::kNeedMore);
    quorum::QuorumAuthPacket r;
    r.status = status;
    quorum::EncodeQuorumAuthPacket(r, &in);
    EXPECT_EQ(l.OnInput(&in, &to_server), QuorumAuthLearner::Result::kFailure);
  }
  QuorumAuthLearner l(*ctx);
  std::string to_server, in;
  ASSERT_EQ(l.Start(&to_server), QuorumAuthLearner::Result::kNeedMore);
  quorum::QuorumAuthPacket junk;
  junk.token = "not a digest challenge";
  quorum::EncodeQuorumAuthPacket(junk, &in);
  EXPECT_EQ(l.OnInput(&in, &to_server), QuorumAuthLearner::Result::kFailure);
}

TEST(QuorumSasl, KerberosIsRefusedAtSetUp) {
  QuorumSaslSettings s = Settings(true, true);
  s.server.kerberos = sasl::KerberosLogin{"zkquorum/host@R", "/k.keytab", "zkquorum", "host"};
  std::string error;
  EXPECT_EQ(MakeQuorumSasl(s, &error), nullptr);
  EXPECT_NE(error.find("quorum.auth.kerberos.servicePrincipal"), std::string::npos) << error;
}

// ---- election connections ----

struct SaslEnsemble {
  std::map<ServerId, int> ports;
  std::map<ServerId, std::unique_ptr<ElectionTransport>> t;
  explicit SaslEnsemble(std::vector<ServerId> ids) {
    for (ServerId id : ids) ports[id] = FreePort();
  }
  void Start(ServerId id, std::shared_ptr<const QuorumSasl> sasl) {
    ElectionConfig c;
    c.my_id = id;
    c.listen_port = ports.at(id);
    c.handshake_timeout_ms = 2000;
    c.sasl = std::move(sasl);
    for (auto& [other, port] : ports) c.members.push_back({other, "127.0.0.1", port});
    t[id] = std::make_unique<ElectionTransport>(c);
    t[id]->Start();
    std::string err;
    ASSERT_EQ(t[id]->WaitListening(5000, &err), ports[id]) << err;
  }
};

quorum::Notification Vote(ServerId leader) {
  return quorum::Notification{quorum::PeerState::kLooking, leader, quorum::MakeZxid(1, 5), 3, 1, 2, "version=0"};
}

bool Receives(ElectionTransport& t, ServerId from, int timeout_ms = 5000) {
  ReceivedNotification r;
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    if (t.Poll(&r, 100) && r.from == from) return true;
  }
  return false;
}

TEST(QuorumSaslElection, MembersAuthenticateBothWays) {
  SaslEnsemble e({1, 2});
  auto ctx = Make(Settings(true, true));
  e.Start(1, ctx);
  e.Start(2, ctx);
  e.t[1]->Send(2, Vote(1));  // the smaller id opens: authenticates, closes, is connected back
  EXPECT_TRUE(Receives(*e.t[2], 1));
  e.t[2]->Send(1, Vote(2));
  EXPECT_TRUE(Receives(*e.t[1], 2));
  EXPECT_GE(e.t[1]->stats().auth_succeeded + e.t[2]->stats().auth_succeeded, 2u);
  EXPECT_EQ(e.t[1]->stats().auth_refused + e.t[2]->stats().auth_refused, 0u);
}

TEST(QuorumSaslElection, WrongPasswordIsRefusedOthersServed) {
  SaslEnsemble e({1, 2, 3});
  auto good = Make(Settings(true, true));
  e.Start(1, good);
  e.Start(2, good);
  e.Start(3, Make(Settings(true, true, "wrong")));
  e.t[3]->Send(1, Vote(3));
  e.t[3]->Send(2, Vote(3));
  e.t[1]->Send(2, Vote(1));
  EXPECT_TRUE(Receives(*e.t[2], 1));
  EXPECT_TRUE(WaitFor([&] { return e.t[1]->stats().auth_refused + e.t[2]->stats().auth_refused > 0; }));
  EXPECT_FALSE(e.t[1]->Connected(3));
  EXPECT_FALSE(e.t[2]->Connected(3));
  ReceivedNotification r;
  while (e.t[1]->Poll(&r, 300)) EXPECT_NE(r.from, 3);
}

TEST(QuorumSaslElection, RollingEnablementLetsAMemberWithoutSaslIn) {
  // enableSasl=true with the require flags off beside a member without SASL.
  SaslEnsemble e({1, 2, 3});
  auto lenient = Make(Settings(false, false));
  e.Start(1, nullptr);
  e.Start(2, lenient);
  e.Start(3, lenient);
  for (ServerId from : {1, 2, 3}) {
    for (ServerId to : {1, 2, 3}) {
      if (from != to) e.t[from]->Send(to, Vote(from));
    }
  }
  for (ServerId to : {1, 2, 3}) {
    std::set<ServerId> got;
    ReceivedNotification r;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (got.size() < 2 && std::chrono::steady_clock::now() < end) {
      if (e.t[to]->Poll(&r, 100)) got.insert(r.from);
    }
    EXPECT_EQ(got.size(), 2u) << "server " << to << " heard from too few";
  }
}

// ---- learner -> leader connections ----

QuorumEvent Next(QuorumTransport& t) {
  QuorumEvent ev;
  EXPECT_TRUE(t.Poll(&ev, 5000));
  return ev;
}

TEST(QuorumSaslTransport, LearnerAuthenticatesBeforeItsFirstPacket) {
  QuorumTransportConfig lc, fc;
  lc.sasl = Make(Settings(true, true));
  fc.sasl = Make(Settings(true, true));
  QuorumTransport leader(lc), learner(fc);
  leader.Start();
  learner.Start();
  std::string err;
  int port = leader.Listen("127.0.0.1", 0, false, &err);
  ASSERT_GT(port, 0) << err;
  ConnId c = learner.Connect("127.0.0.1", port);
  // Queued before the exchange is over: written after it.
  quorum::QuorumPacket fi{quorum::PacketType::kFollowerInfo, 0, quorum::EncodeLearnerInfo({2, 0x10000, 0}), false, {}};
  ASSERT_EQ(learner.Send(c, fi), QuorumTransport::SendResult::kQueued);
  QuorumEvent ev = Next(learner);
  EXPECT_EQ(ev.kind, QuorumEvent::Kind::kConnected) << ev.reason;
  ev = Next(leader);
  ASSERT_EQ(ev.kind, QuorumEvent::Kind::kConnected) << ev.reason;
  EXPECT_TRUE(ev.accepted);
  ev = Next(leader);
  ASSERT_EQ(ev.kind, QuorumEvent::Kind::kPacket);
  EXPECT_EQ(ev.packet, fi);
}

TEST(QuorumSaslTransport, WrongPasswordOrNoSaslIsRefused) {
  QuorumTransportConfig lc;
  lc.sasl = Make(Settings(true, true));
  QuorumTransport leader(lc);
  leader.Start();
  std::string err;
  int port = leader.Listen("127.0.0.1", 0, false, &err);
  ASSERT_GT(port, 0) << err;
  QuorumTransportConfig bad;
  bad.sasl = Make(Settings(true, true, "wrong"));
  QuorumTransport learner(bad);
  learner.Start();
  learner.Connect("127.0.0.1", port);
  QuorumEvent ev = Next(learner);
  EXPECT_EQ(ev.kind, QuorumEvent::Kind::kDisconnected);
  EXPECT_NE(ev.reason.find("quorum SASL"), std::string::npos) << ev.reason;
  QuorumTransport plain;  // no SASL at all: its FOLLOWERINFO is refused
  plain.Start();
  ConnId c = plain.Connect("127.0.0.1", port);
  EXPECT_EQ(Next(plain).kind, QuorumEvent::Kind::kConnected);
  plain.Send(c, quorum::QuorumPacket{quorum::PacketType::kFollowerInfo, 0, "x", false, {}});
  EXPECT_EQ(Next(plain).kind, QuorumEvent::Kind::kDisconnected);
  // The leader reported none of them and still serves a good learner.
  QuorumTransportConfig gc;
  gc.sasl = Make(Settings(true, true));
  QuorumTransport good(gc);
  good.Start();
  good.Connect("127.0.0.1", port);
  EXPECT_EQ(Next(good).kind, QuorumEvent::Kind::kConnected);
  ev = Next(leader);
  EXPECT_EQ(ev.kind, QuorumEvent::Kind::kDisconnected);  // the refused ones, never reported connected
  while (ev.kind == QuorumEvent::Kind::kDisconnected) ev = Next(leader);
  EXPECT_EQ(ev.kind, QuorumEvent::Kind::kConnected);
}

TEST(QuorumSaslTransport, LenientLeaderTakesALearnerWithoutSasl) {
  QuorumTransportConfig lc;
  lc.sasl = Make(Settings(false, false));
  QuorumTransport leader(lc), learner;
  leader.Start();
  learner.Start();
  std::string err;
  int port = leader.Listen("127.0.0.1", 0, false, &err);
  ConnId c = learner.Connect("127.0.0.1", port);
  EXPECT_EQ(Next(learner).kind, QuorumEvent::Kind::kConnected);
  quorum::QuorumPacket fi{quorum::PacketType::kFollowerInfo, 0, "info", false, {}};
  learner.Send(c, fi);
  EXPECT_EQ(Next(leader).kind, QuorumEvent::Kind::kConnected);
  QuorumEvent ev = Next(leader);
  ASSERT_EQ(ev.kind, QuorumEvent::Kind::kPacket);
  EXPECT_EQ(ev.packet, fi);
}

}  // namespace
}  // namespace aviary::peer
