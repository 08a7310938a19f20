// Client-authentication keys (issue 8, config/auth_config.cc): the SASL
// provider, JAAS location, superUser, Kerberos name options and
// AuthenticationHelper's enforce.auth rules, as ZooKeeper 3.8 reads them.
#include <gtest/gtest.h>

#include <string>

#include "config/zoo_config.h"

namespace aviary::config {
namespace {

bool Parse(const std::string& extra, ServerConfig* cfg, std::string* error) {
  return ParseZooConfig("dataDir=/d\n" + extra, cfg, error);
}

ServerConfig MustParse(const std::string& extra) {
  ServerConfig cfg;
  std::string error;
  EXPECT_TRUE(Parse(extra, &cfg, &error)) << error;
  EXPECT_TRUE(CheckHonoured(cfg, &error)) << error;
  for (const std::string& w : cfg.warnings) ADD_FAILURE() << extra << " warned: " << w;
  return cfg;
}

TEST(AuthConfig, SaslKeysBothSpellings) {
  ServerConfig cfg = MustParse(
      "authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n"
      "aviary.sasl.jaasConfig=/etc/zk/jaas.conf\nzookeeper.sasl.serverconfig=ZkServer\n"
      "superUser=admin\nzookeeper.superUser.2=ops\nSASLAuthenticationProvider.superPassword=pw\n"
      "kerberos.removeHostFromPrincipal=true\nzookeeper.kerberos.removeRealmFromPrincipal=true\n"
      "allowSaslFailedClients=true\n");
  EXPECT_TRUE(cfg.sasl.provider);
  EXPECT_EQ(cfg.sasl.jaas_config, "/etc/zk/jaas.conf");
  EXPECT_EQ(cfg.sasl.login_context, "ZkServer");
  EXPECT_EQ(cfg.sasl.super_users, (std::vector<std::string>{"admin", "ops"}));
  EXPECT_EQ(cfg.sasl.super_password, "pw");
  EXPECT_TRUE(cfg.sasl.remove_host);
  EXPECT_TRUE(cfg.sasl.remove_realm);
  EXPECT_TRUE(cfg.sasl.allow_failed_clients);
  EXPECT_FALSE(cfg.enforce_auth_enabled);
  ServerConfig plain = MustParse("");
  EXPECT_FALSE(plain.sasl.provider);
  EXPECT_EQ(plain.sasl.login_context, "Server");
}

TEST(AuthConfig, EnforceAuthAsAuthenticationHelper) {
  ServerConfig cfg = MustParse(
      "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n"
      "enforce.auth.enabled=true\nenforce.auth.schemes= sasl , digest\n");
  EXPECT_TRUE(cfg.enforce_auth_enabled);
  EXPECT_EQ(cfg.enforce_auth_schemes, (std::vector<std::string>{"sasl", "digest"}));
  // sessionRequireClientSASLAuth wins over both.
  cfg = MustParse(
      "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n"
      "enforce.auth.enabled=false\nenforce.auth.schemes=digest\nzookeeper.sessionRequireClientSASLAuth=true\n");
  EXPECT_TRUE(cfg.enforce_auth_enabled);
  EXPECT_EQ(cfg.enforce_auth_schemes, (std::vector<std::string>{"sasl"}));
  // digest is always there; schemes without enforcement do nothing.
  MustParse("enforce.auth.enabled=true\nenforce.auth.schemes=digest\n");
  MustParse("enforce.auth.schemes=kerberos\n");
}

void ExpectError(const std::string& extra, const std::string& want) {
  ServerConfig cfg;
  std::string error;
  EXPECT_FALSE(Parse(extra, &cfg, &error)) << extra;
  EXPECT_NE(error.find(want), std::string::npos) << error;
}

TEST(AuthConfig, InvalidSettingsStopTheStart) {
  ExpectError("enforce.auth.enabled=true\n", "enforce.auth.schemes must be configured");
  ExpectError("enforce.auth.enabled=true\nenforce.auth.schemes=sasl\n", "scheme 'sasl' is not available");
  ExpectError("sessionRequireClientSASLAuth=true\n", "scheme 'sasl' is not available");
  ExpectError("enforce.auth.enabled=true\nenforce.auth.schemes=digest,kerberos\n", "scheme 'kerberos'");
  ExpectError("enforce.auth.enabled=maybe\n", "enforce.auth.enabled");
  ExpectError("kerberos.removeHostFromPrincipal=yes please\n", "kerberos.removeHostFromPrincipal");
  ExpectError("sasl.serverconfig=\n", "sasl.serverconfig");
}

}  // namespace
}  // namespace aviary::config
