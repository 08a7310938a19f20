// Quorum TLS keys (issue 8 part 4), read as ZooKeeper 3.8 reads them:
// sslQuorum / portUnification / sslQuorumReloadCertFiles (QuorumPeerConfig)
// and ssl.quorum.* (QuorumX509Util), carried into the QuorumConfig the
// peer transports use.
#include <gtest/gtest.h>

#include <string>

#include "config/quorum_config.h"
#include "config/zoo_config.h"

namespace aviary::config {
namespace {

constexpr char kEnsemble[] = "initLimit=5\nsyncLimit=2\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.2:2888:3888\n";

QuorumConfig MustBuild(const std::string& extra) {
  ServerConfig cfg;
  std::string error;
  EXPECT_TRUE(ParseZooConfig("dataDir=/d\n" + std::string(kEnsemble) + extra, &cfg, &error)) << error;
  std::string refused;
  EXPECT_TRUE(CheckHonoured(cfg, &refused)) << refused;
  EXPECT_TRUE(ApplyMyId("1\n", &cfg, &error)) << error;
  QuorumConfig q;
  EXPECT_TRUE(BuildQuorumConfig(cfg, &q, &error)) << error;
  return q;
}

TEST(QuorumTlsConfig, DefaultsAreZooKeepers) {
  QuorumConfig q = MustBuild("");
  EXPECT_FALSE(q.ssl_quorum);
  EXPECT_FALSE(q.port_unification);
  EXPECT_FALSE(q.quorum_tls.cert_reload);
  EXPECT_TRUE(q.quorum_tls.hostname_verification);  // ZooKeeper verifies quorum peers' names by default
  EXPECT_EQ(q.quorum_tls.client_auth, tls::ClientAuth::kNeed);
  EXPECT_EQ(q.quorum_tls.protocol, "TLSv1.2");
  EXPECT_TRUE(q.quorum_tls.key_store.empty());
}

TEST(QuorumTlsConfig, KeysReachTheQuorumConfig) {
  QuorumConfig q = MustBuild(
      "sslQuorum=true\nportUnification=true\nsslQuorumReloadCertFiles=true\n"
      "ssl.quorum.keyStore.location=/k.p12\nssl.quorum.keyStore.password=kp\nssl.quorum.keyStore.type=PKCS12\n"
      "zookeeper.ssl.quorum.trustStore.location=/t.pem\nssl.quorum.trustStore.type=PEM\n"
      "ssl.quorum.hostnameVerification=false\nssl.quorum.protocol=TLSv1.3\n"
      "ssl.quorum.enabledProtocols=TLSv1.2, TLSv1.3\n"
      "ssl.quorum.ciphersuites=TLS_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
      "ssl.quorum.clientAuth=need\n");
  EXPECT_TRUE(q.ssl_quorum);
  EXPECT_TRUE(q.port_unification);
  EXPECT_TRUE(q.quorum_tls.cert_reload);
  EXPECT_EQ(q.quorum_tls.key_store.location, "/k.p12");
  EXPECT_EQ(q.quorum_tls.key_store.password, "kp");
  EXPECT_EQ(q.quorum_tls.key_store.type, "PKCS12");
  EXPECT_EQ(q.quorum_tls.trust_store.location, "/t.pem");
  EXPECT_EQ(q.quorum_tls.trust_store.type, "PEM");
  EXPECT_FALSE(q.quorum_tls.hostname_verification);
  EXPECT_EQ(q.quorum_tls.protocol, "TLSv1.3");
  EXPECT_EQ(q.quorum_tls.enabled_protocols, (std::vector<std::string>{"TLSv1.2", "TLSv1.3"}));
  EXPECT_EQ(q.quorum_tls.cipher_suites.size(), 2u);
}

TEST(QuorumTlsConfig, ClientPortAndQuorumStoresAreSeparate) {
  ServerConfig cfg;
  std::string error;
  ASSERT_TRUE(
      ParseZooConfig("dataDir=/d\nssl.keyStore.location=/client.pem\nssl.quorum.keyStore.location=/quorum.pem\n"
                     "ssl.hostnameVerification=false\n",
                     &cfg, &error))
      << error;
  EXPECT_EQ(cfg.tls.key_store.location, "/client.pem");
  EXPECT_EQ(cfg.quorum_tls.key_store.location, "/quorum.pem");
  EXPECT_FALSE(cfg.tls.hostname_verification);
  EXPECT_TRUE(cfg.quorum_tls.hostname_verification);
  EXPECT_FALSE(cfg.TlsInUse());  // the client port stays plaintext
}

TEST(QuorumTlsConfig, BadValuesAreErrorsNamingTheKey) {
  for (const char* bad : {"sslQuorum=maybe\n", "portUnification=2\n", "ssl.quorum.clientAuth=sometimes\n",
                          "ssl.quorum.hostnameVerification=yes please\n", "ssl.quorum.protocol=\n"}) {
    ServerConfig cfg;
    std::string error;
    EXPECT_FALSE(ParseZooConfig(std::string("dataDir=/d\n") + bad, &cfg, &error)) << bad;
    std::string key(bad, std::string(bad).find('='));
    EXPECT_NE(error.find(key), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace aviary::config
