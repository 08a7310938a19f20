// TLS on the client port and x509 authentication keys (issue 8), read as
// ZooKeeper 3.8 reads them (QuorumPeerConfig, ClientX509Util, X509Util,
// NettyServerCnxnFactory, X509AuthenticationProvider).
#include <gtest/gtest.h>

#include <string>

#include "config/zoo_config.h"

namespace aviary::config {
namespace {

ServerConfig MustParse(const std::string& extra) {
  ServerConfig cfg;
  std::string error;
  EXPECT_TRUE(ParseZooConfig("dataDir=/d\n" + extra, &cfg, &error)) << error;
  std::string refused;
  EXPECT_TRUE(CheckHonoured(cfg, &refused)) << refused;
  return cfg;
}

std::string ParseError(const std::string& extra) {
  ServerConfig cfg;
  std::string error;
  EXPECT_FALSE(ParseZooConfig("dataDir=/d\n" + extra, &cfg, &error)) << extra;
  return error;
}

constexpr char kNetty[] = "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n";

TEST(TlsConfig, DefaultsAreZooKeepers) {
  ServerConfig cfg = MustParse("");
  EXPECT_FALSE(cfg.TlsInUse());
  EXPECT_FALSE(cfg.x509_provider);
  EXPECT_EQ(cfg.tls.client_auth, tls::ClientAuth::kNeed);  // X509Util.ClientAuth: unset = NEED
  EXPECT_EQ(cfg.tls.protocol, "TLSv1.2");                  // X509Util.DEFAULT_PROTOCOL in 3.8
  EXPECT_TRUE(cfg.tls.enabled_protocols.empty());
  EXPECT_TRUE(cfg.tls.cipher_suites.empty());
  EXPECT_TRUE(cfg.tls.hostname_verification);
  EXPECT_FALSE(cfg.tls.cert_reload);
  EXPECT_EQ(cfg.ssl_auth_provider, "x509");
}

TEST(TlsConfig, ZooKeeperTlsConfigIsRead) {
  ServerConfig cfg = MustParse(std::string(kNetty) +
                               "secureClientPort=2281\nsecureClientPortAddress=127.0.0.1\n"
                               "ssl.keyStore.location=/k/server.p12\nssl.keyStore.password=pw1\n"
                               "ssl.keyStore.type=PKCS12\nssl.trustStore.location=/k/ca.pem\n"
                               "ssl.trustStore.passwordPath=/k/pw\nssl.clientAuth=WANT\nssl.protocol=TLSv1.3\n"
                               "ssl.enabledProtocols=TLSv1.2, TLSv1.3\n"
                               "ssl.ciphersuites=TLS_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
                               "ssl.hostnameVerification=false\nclient.certReload=true\n");
  EXPECT_TRUE(cfg.TlsInUse());
  EXPECT_TRUE(cfg.x509_provider);  // implied by TLS (QuorumPeerConfig.configureSSLAuth)
  EXPECT_EQ(cfg.secure_client_port, 2281);
  EXPECT_EQ(cfg.secure_client_port_address, "127.0.0.1");
  EXPECT_EQ(cfg.tls.key_store.location, "/k/server.p12");
  EXPECT_EQ(cfg.tls.key_store.password, "pw1");
  EXPECT_EQ(cfg.tls.key_store.type, "PKCS12");
  EXPECT_EQ(cfg.tls.trust_store.location, "/k/ca.pem");
  EXPECT_EQ(cfg.tls.trust_store.password_path, "/k/pw");
  EXPECT_EQ(cfg.tls.client_auth, tls::ClientAuth::kWant);
  EXPECT_EQ(cfg.tls.protocol, "TLSv1.3");
  EXPECT_EQ(cfg.tls.enabled_protocols, (std::vector<std::string>{"TLSv1.2", "TLSv1.3"}));
  EXPECT_EQ(cfg.tls.cipher_suites.size(), 2u);
  EXPECT_FALSE(cfg.tls.hostname_verification);
  EXPECT_TRUE(cfg.tls.cert_reload);
  EXPECT_TRUE(cfg.warnings.empty()) << cfg.warnings[0];
}

TEST(TlsConfig, SystemPropertySpellingsAndPortUnification) {
  ServerConfig cfg = MustParse(
      "zookeeper.serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n"
      "zookeeper.client.portUnification=true\nzookeeper.ssl.keyStore.location=/k.pem\n"
      "zookeeper.ssl.clientAuth=none\nzookeeper.client.certReload=true\n");
  EXPECT_TRUE(cfg.port_unification);
  EXPECT_FALSE(cfg.secure_client_port_set);
  EXPECT_TRUE(cfg.TlsInUse());
  EXPECT_EQ(cfg.tls.key_store.location, "/k.pem");
  EXPECT_EQ(cfg.tls.client_auth, tls::ClientAuth::kNone);
  EXPECT_TRUE(cfg.tls.cert_reload);
  EXPECT_TRUE(cfg.warnings.empty());
}

TEST(TlsConfig, X509ProviderAndSuperUser) {
  ServerConfig cfg = MustParse(
      "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider\n"
      "X509AuthenticationProvider.superUser=CN=admin,O=Example\n");
  EXPECT_TRUE(cfg.x509_provider);
  EXPECT_FALSE(cfg.TlsInUse());
  EXPECT_EQ(cfg.x509_super_user, "CN=admin,O=Example");
  EXPECT_EQ(MustParse("zookeeper.X509AuthenticationProvider.superUser=CN=a\n").x509_super_user, "CN=a");
  // ssl.authProvider names a scheme registered by an authProvider.N line.
  ServerConfig named = MustParse(std::string(kNetty) +
                                 "secureClientPort=2281\nssl.authProvider=mtls\n"
                                 "authProvider.mtls=org.apache.zookeeper.server.auth.X509AuthenticationProvider\n");
  EXPECT_EQ(named.ssl_auth_provider, "mtls");
}

TEST(TlsConfig, ErrorsAsZooKeepers) {
  EXPECT_EQ(ParseError("secureClientPortAddress=0.0.0.0\n"),
            "secureClientPortAddress is set but secureClientPort is not set");
  EXPECT_NE(ParseError("secureClientPort=2281\nssl.authProvider=foo\n")
                .find("No auth provider configured for the SSL authentication scheme 'foo'"),
            std::string::npos);
  EXPECT_NE(ParseError("ssl.clientAuth=maybe\n").find("invalid value for ssl.clientAuth: 'maybe'"), std::string::npos);
  EXPECT_NE(ParseError("secureClientPort=70000\n").find("secureClientPort"), std::string::npos);
}

TEST(TlsConfig, UnsupportedSecuritySettingsAreRefused) {
  ServerConfig cfg;
  std::string error;
  ASSERT_TRUE(ParseZooConfig("dataDir=/d\nssl.crl=true\nssl.ocsp=true\nssl.foo=1\n", &cfg, &error)) << error;
  EXPECT_FALSE(CheckHonoured(cfg, &error));
  EXPECT_NE(error.find("ssl.crl: certificate revocation"), std::string::npos) << error;
  EXPECT_NE(error.find("ssl.ocsp: certificate revocation"), std::string::npos) << error;
  EXPECT_NE(error.find("ssl.foo: "), std::string::npos) << error;
  MustParse("ssl.crl=false\nssl.ocsp=false\nssl.allowReverseDnsLookup=true\n");
}

TEST(TlsConfig, FactoryWithoutNettyWarns) {
  ServerConfig plain = MustParse("serverCnxnFactory=org.apache.zookeeper.server.NIOServerCnxnFactory\n");
  EXPECT_TRUE(plain.warnings.empty());  // without TLS, NIO is what Aviary is like anyway
  ServerConfig tls = MustParse("secureClientPort=2281\n");
  ASSERT_EQ(tls.warnings.size(), 1u);
  EXPECT_NE(tls.warnings[0].find("ZooKeeper serves TLS only with"), std::string::npos);
}

}  // namespace
}  // namespace aviary::config
