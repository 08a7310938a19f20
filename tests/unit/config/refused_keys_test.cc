// Fail closed (issue 6, item 18): settings that change safety or security are
// honoured or refused, never ignored with a warning.
#include <gtest/gtest.h>

#include <string>

#include "config/zoo_config.h"

namespace aviary::config {
namespace {

ServerConfig Parse(const std::string& extra) {
  ServerConfig cfg;
  std::string error;
  EXPECT_TRUE(ParseZooConfig("dataDir=/d\n" + extra, &cfg, &error)) << error;
  return cfg;
}

// The start-up error for `extra`, or "" when the config may run.
std::string Refusal(const std::string& extra) {
  std::string error;
  return CheckHonoured(Parse(extra), &error) ? "" : error;
}

void ExpectRefusedNaming(const std::string& extra, const std::string& key) {
  std::string error = Refusal(extra);
  ASSERT_NE(error, "") << extra << " was accepted";
  EXPECT_EQ(error.rfind("refusing to start", 0), 0u) << error;
  EXPECT_NE(error.find("\n  " + key + ": "), std::string::npos) << key << " not named in: " << error;
}

void ExpectRuns(const std::string& extra) {
  ServerConfig cfg = Parse(extra);
  std::string error;
  EXPECT_TRUE(CheckHonoured(cfg, &error)) << extra << ": " << error;
  for (const std::string& w : cfg.warnings) ADD_FAILURE() << extra << " warned: " << w;
}

TEST(RefusedKeys, QuorumMembership) {
  // Two participants: an ensemble member, which runs (server/quorum_peer.h).
  EXPECT_EQ(Refusal("initLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\n"), "");
  // A one-member ensemble (ZooKeeper runs it as a quorum peer, not standalone).
  ExpectRefusedNaming("initLimit=5\nsyncLimit=2\nstandaloneEnabled=false\nserver.1=a:1:2\n", "standaloneEnabled=false");
  // Without any participant ZooKeeper fails to parse it.
  ServerConfig cfg;
  std::string error;
  EXPECT_FALSE(ParseZooConfig("dataDir=/d\nstandaloneEnabled=false\n", &cfg, &error));
  EXPECT_EQ(error, "standaloneEnabled = false then number of participants should be >0");
  ExpectRefusedNaming("dynamicConfigFile=/etc/zookeeper/zoo.cfg.dynamic\n", "dynamicConfigFile");
  ExpectRefusedNaming("reconfigEnabled=true\n", "reconfigEnabled");
  ExpectRuns("standaloneEnabled=true\nreconfigEnabled=false\n");
}

TEST(RefusedKeys, SingleServerLineRunsStandaloneAsZooKeeper) {
  ServerConfig cfg = Parse("server.1=localhost:2888:3888;2181\n");
  std::string error;
  EXPECT_TRUE(CheckHonoured(cfg, &error)) << error;
}

// Client-port and quorum TLS are implemented (tls_config_test.cc,
// quorum_tls_config_test.cc); what they cannot honour is refused.
TEST(RefusedKeys, QuorumTls) {
  ExpectRuns("portUnification=true\nsslQuorum=true\nsslQuorumReloadCertFiles=true\n");
  ExpectRuns("ssl.quorum.trustStore.location=/t.jks\nzookeeper.ssl.quorum.clientAuth=need\n");
  ExpectRefusedNaming("ssl.quorum.clientAuth=want\n", "ssl.quorum.clientAuth");
  ExpectRefusedNaming("ssl.quorum.clientAuth=none\n", "ssl.quorum.clientAuth");
  ExpectRefusedNaming("ssl.quorum.crl=true\n", "ssl.quorum.crl");
  ExpectRefusedNaming("ssl.quorum.context.supplier.class=a.B\n", "ssl.quorum.context.supplier.class");
  ExpectRefusedNaming("ssl.context.supplier.class=a.B\n", "ssl.context.supplier.class");
  ExpectRuns("portUnification=false\nsslQuorum=false\n");
}

TEST(RefusedKeys, ClientAndQuorumAuthentication) {
  ExpectRefusedNaming("authProvider.1=com.example.LdapAuthenticationProvider\n", "authProvider.1");
  ExpectRefusedNaming("security.auth_to_local=RULE:[1:$1]\n", "security.auth_to_local");
  ExpectRefusedNaming("DigestAuthenticationProvider.digestAlg=SHA-256\n", "DigestAuthenticationProvider.digestAlg");
  ExpectRefusedNaming("skipACL=yes\n", "skipACL");
  // What Aviary does anyway runs without a word.
  ExpectRuns(
      "authProvider.1=org.apache.zookeeper.server.auth.DigestAuthenticationProvider\n"
      "authProvider.2=org.apache.zookeeper.server.auth.IPAuthenticationProvider\n"
      "authProvider.3=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\nsuperUser=admin\n"
      "security.auth_to_local=DEFAULT\nquorum.auth.learnerRequireSasl=false\n"
      "sessionRequireClientSASLAuth=false\nenforce.auth.enabled=false\nquorum.auth.enableSasl=false\n"
      "DigestAuthenticationProvider.digestAlg=SHA1\nskipACL=no\n");
}

// Quorum SASL is implemented (peer/quorum_auth.h): its keys are read, with
// QuorumPeerConfig's consistency checks.
TEST(RefusedKeys, QuorumSaslKeysAreRead) {
  ExpectRuns("quorum.auth.enableSasl=true\n");
  ServerConfig cfg = Parse(
      "quorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=true\nquorum.auth.serverRequireSasl=true\n"
      "quorum.auth.learner.saslLoginContext=QL\nquorum.auth.server.saslLoginContext=QS\n"
      "quorum.auth.kerberos.servicePrincipal=zkquorum/_HOST\n");
  EXPECT_TRUE(cfg.quorum_sasl.enable);
  EXPECT_TRUE(cfg.quorum_sasl.learner_require);
  EXPECT_TRUE(cfg.quorum_sasl.server_require);
  EXPECT_EQ(cfg.quorum_sasl.learner_context, "QL");
  EXPECT_EQ(cfg.quorum_sasl.server_context, "QS");
  EXPECT_EQ(cfg.quorum_sasl.service_principal, "zkquorum/_HOST");
  EXPECT_EQ(Parse("").quorum_sasl.learner_context, "QuorumLearner");
  EXPECT_EQ(Parse("").quorum_sasl.server_context, "QuorumServer");
  // A system property of the same name does nothing in ZooKeeper.
  EXPECT_FALSE(Parse("zookeeper.quorum.auth.enableSasl=true\n").quorum_sasl.enable);
  struct Bad {
    const char* text;
    const char* error;
  };
  for (const Bad& b : {
           Bad{"quorum.auth.serverRequireSasl=true\n",
               "quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.serverRequireSasl"},
           Bad{"quorum.auth.learnerRequireSasl=true\n",
               "quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.learnerRequireSasl"},
           Bad{"quorum.auth.enableSasl=true\nquorum.auth.serverRequireSasl=true\n",
               "quorum.auth.learnerRequireSasl is disabled, so cannot enable quorum.auth.serverRequireSasl"},
       }) {
    ServerConfig c;
    std::string error;
    EXPECT_FALSE(ParseZooConfig(std::string("dataDir=/d\n") + b.text, &c, &error)) << b.text;
    EXPECT_NE(error.find(b.error), std::string::npos) << error;
  }
}

TEST(RefusedKeys, ReadOnlyModeAndAuditRun) {
  // Read-only mode (server/core_read_only.cc) and the audit log (src/audit) are implemented.
  ExpectRuns("readonlymode.enabled=true\n");
  ExpectRuns("audit.enable=true\n");
  EXPECT_TRUE(Parse("audit.enable=TRUE\n").audit_enable);
  EXPECT_TRUE(Parse("zookeeper.audit.enable=true\n").audit_enable);
  EXPECT_FALSE(Parse("audit.enable=yes\n").audit_enable);  // Boolean.getBoolean: only "true"
  ExpectRuns("readonlymode.enabled=false\naudit.enable=false\n");
}

TEST(RefusedKeys, EveryRefusedKeyIsNamedAndNoValueIsEchoed) {
  std::string error = Refusal(
      "ssl.quorum.clientAuth=want\nssl.quorum.bogus=hunter2\nstandaloneEnabled=false\nskipACL=yes\n"
      "initLimit=5\nsyncLimit=2\nserver.1=a:1:2\n");
  for (const char* key : {"ssl.quorum.clientAuth", "ssl.quorum.bogus", "standaloneEnabled=false", "skipACL"}) {
    EXPECT_NE(error.find(key), std::string::npos) << key << " missing from " << error;
  }
  EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
}

TEST(RefusedKeys, NothingRefusedWasAWarning) {
  ServerConfig cfg = Parse("ssl.quorum.ocsp=true\nauthProvider.1=x.Y\nskipACL=yes\n");
  EXPECT_EQ(cfg.refused.size(), 3u);
  EXPECT_TRUE(cfg.warnings.empty());
}

TEST(RefusedKeys, MaxCnxnsIsHonoured) {
  ServerConfig cfg = Parse("maxCnxns=500\n");
  EXPECT_EQ(cfg.max_cnxns, 500);
  EXPECT_TRUE(cfg.warnings.empty());
  EXPECT_EQ(Parse("zookeeper.maxCnxns=7\n").max_cnxns, 7);
}

}  // namespace
}  // namespace aviary::config
