// Quorum TLS on the peer transports (peer_tls.h) on loopback, with a CA and
// member certificates made here: packets both ways over TLS (large ones
// too), a unified listener taking a TLS and a plaintext learner, a
// certificate without the peer's IP refused, plaintext on a TLS-only port
// dropped.
#include "peer/peer_tls.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "peer/quorum_transport.h"
#include "peer_test_util.h"

namespace aviary::peer {
namespace {

using Kind = QuorumEvent::Kind;
using quorum::PacketType;
using quorum::QuorumPacket;

struct Cert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
};

void AddExt(X509* issuer, X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `cn` signed by `ca` (self-signed CA when null), with `san`.
Cert Make(const char* cn, const Cert* ca, const char* san) {
  Cert c;
  c.key = EVP_EC_gen("P-256");
  c.cert = X509_new();
  X509_set_version(c.cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c.cert), static_cast<long>(getpid()) + (ca ? 2 : 1));
  X509_gmtime_adj(X509_getm_notBefore(c.cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c.cert), 86400);
  X509_set_pubkey(c.cert, c.key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(c.cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509* issuer = ca ? ca->cert : c.cert;
  X509_set_issuer_name(c.cert, X509_get_subject_name(issuer));
  AddExt(issuer, c.cert, NID_basic_constraints, ca ? "critical,CA:FALSE" : "critical,CA:TRUE");
  if (san != nullptr) AddExt(issuer, c.cert, NID_subject_alt_name, san);
  X509_sign(c.cert, ca ? ca->key : c.key, EVP_sha256());
  return c;
}

std::string Write(const std::string& path, const Cert& c, bool with_key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (with_key) PEM_write_PrivateKey(f, c.key, nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_X509(f, c.cert);
  std::fclose(f);
  return path;
}

class PeerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/aviary-peer-tls-XXXXXX";
    dir_ = mkdtemp(tmpl);
    Cert ca = Make("Test CA", nullptr, nullptr);
    Cert member = Make("member", &ca, "IP:127.0.0.1,DNS:localhost");
    Cert noip = Make("elsewhere", &ca, "IP:10.1.2.3");
    trust_ = Write(dir_ + "/ca.pem", ca, false);
    member_ = Write(dir_ + "/member.pem", member, true);
    noip_ = Write(dir_ + "/noip.pem", noip, true);
    for (Cert* c : {&ca, &member, &noip}) {
      X509_free(c->cert);
      EVP_PKEY_free(c->key);
    }
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  PeerTlsConfig Tls(const std::string& store, bool ssl, bool unified) {
    tls::TlsOptions o;
    o.key_store.location = store;
    o.trust_store.location = trust_;
    o.handshake_timeout_ms = 2000;
    PeerTlsConfig c;
    std::string error;
    EXPECT_TRUE(MakePeerTls(o, ssl, unified, &c, &error)) << error;
    return c;
  }

  std::string dir_, trust_, member_, noip_;
};

QuorumEvent Next(QuorumTransport& t) {
  QuorumEvent ev;
  EXPECT_TRUE(t.Poll(&ev, 5000));
  return ev;
}

QuorumTransportConfig With(PeerTlsConfig tls) {
  QuorumTransportConfig c;
  c.tls = std::move(tls);
  return c;
}

TEST_F(PeerTlsTest, PacketsBothWaysOverTls) {
  QuorumTransport leader(With(Tls(member_, true, false))), learner(With(Tls(member_, true, false)));
  leader.Start();
  learner.Start();
  std::string err;
  int port = leader.Listen("127.0.0.1", 0, false, &err);
  ASSERT_GT(port, 0) << err;
  ConnId at_learner = learner.Connect("127.0.0.1", port);
  ASSERT_EQ(Next(learner).kind, Kind::kConnected);
  QuorumEvent acc = Next(leader);
  ASSERT_EQ(acc.kind, Kind::kConnected);
  QuorumPacket big{PacketType::kProposal, 5, std::string(900 << 10, 'x'), false, {}};
  QuorumPacket small{PacketType::kPing, 6, "", false, {}};
  learner.Send(at_learner, small);
  learner.Send(at_learner, big);
  leader.Send(acc.conn, big);
  QuorumEvent a = Next(leader), b = Next(leader), c = Next(learner);
  EXPECT_EQ(a.packet, small);
  EXPECT_EQ(b.packet, big);
  EXPECT_EQ(c.packet, big);
}

TEST_F(PeerTlsTest, UnifiedListenerTakesTlsAndPlaintext) {
  QuorumTransport leader(With(Tls(member_, false, true)));
  QuorumTransport tls_learner(With(Tls(member_, true, false))), plain_learner;
  for (QuorumTransport* t : {&leader, &tls_learner, &plain_learner}) t->Start();
  std::string err;
  int port = leader.Listen("127.0.0.1", 0, false, &err);
  ASSERT_GT(port, 0) << err;
  for (QuorumTransport* t : {&tls_learner, &plain_learner}) {
    ConnId id = t->Connect("127.0.0.1", port);
    ASSERT_EQ(Next(*t).kind, Kind::kConnected);
    ASSERT_EQ(Next(leader).kind, Kind::kConnected);
    QuorumPacket p{PacketType::kPing, static_cast<int64_t>(id), "hello", false, {}};
    t->Send(id, p);
    QuorumEvent ev = Next(leader);
    EXPECT_EQ(ev.kind, Kind::kPacket);
    EXPECT_EQ(ev.packet, p);
  }
}

TEST_F(PeerTlsTest, CertificateWithoutThePeersIpIsRefused) {
  QuorumTransport leader(With(Tls(member_, true, false))), learner(With(Tls(noip_, true, false)));
  leader.Start();
  learner.Start();
  std::string err;
  int port = leader.Listen("127.0.0.1", 0, false, &err);
  ConnId id = learner.Connect("127.0.0.1", port);
  ASSERT_EQ(Next(learner).kind, Kind::kConnected);
  learner.Send(id, QuorumPacket{PacketType::kPing, 1, "x", false, {}});
  ASSERT_EQ(Next(leader).kind, Kind::kConnected);
  QuorumEvent ev = Next(leader);
  EXPECT_EQ(ev.kind, Kind::kDisconnected);
  EXPECT_NE(ev.reason.find("TLS"), std::string::npos) << ev.reason;
  EXPECT_EQ(Next(learner).kind, Kind::kDisconnected);
}

TEST_F(PeerTlsTest, PlaintextOnATlsOnlyPortIsDropped) {
  QuorumTransport leader(With(Tls(member_, true, false))), learner;
  leader.Start();
  learner.Start();
  std::string err;
  int port = leader.Listen("127.0.0.1", 0, false, &err);
  ConnId id = learner.Connect("127.0.0.1", port);
  ASSERT_EQ(Next(learner).kind, Kind::kConnected);
  learner.Send(id, QuorumPacket{PacketType::kPing, 1, "x", false, {}});
  ASSERT_EQ(Next(leader).kind, Kind::kConnected);
  QuorumEvent ev = Next(leader);
  EXPECT_EQ(ev.kind, Kind::kDisconnected);
  EXPECT_NE(ev.reason.find("not a TLS handshake"), std::string::npos) << ev.reason;
}

TEST_F(PeerTlsTest, MissingKeyStoreNamesTheQuorumKey) {
  tls::TlsOptions o;
  o.trust_store.location = trust_;
  PeerTlsConfig c;
  std::string error;
  EXPECT_FALSE(MakePeerTls(o, true, false, &c, &error));
  EXPECT_NE(error.find("ssl.quorum.keyStore.location"), std::string::npos) << error;
  EXPECT_TRUE(MakePeerTls(o, false, false, &c, &error));  // no quorum TLS: nothing to build
  EXPECT_EQ(c.source, nullptr);
}

}  // namespace
}  // namespace aviary::peer
