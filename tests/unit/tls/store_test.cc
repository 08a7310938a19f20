// Store types as ZooKeeper's KeyStoreFileType, Java-only stores refused with
// the keytool conversion, and context settings refused by key.
#include "tls/store.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tls/context.h"

namespace aviary::tls {
namespace {

StoreType TypeOf(const std::string& location, const std::string& type = "") {
  StoreOptions s;
  s.location = location;
  s.type = type;
  StoreType t = StoreType::kPem;
  std::string error;
  EXPECT_TRUE(ResolveStoreType(s, "ssl.keyStore", &t, &error)) << error;
  return t;
}

TEST(StoreType, FromTypeOrExtension) {
  EXPECT_EQ(TypeOf("/k/server.pem"), StoreType::kPem);
  EXPECT_EQ(TypeOf("/k/server.p12"), StoreType::kPkcs12);
  EXPECT_EQ(TypeOf("/k/server.jks"), StoreType::kJks);
  EXPECT_EQ(TypeOf("/k/server.bcfks"), StoreType::kBcfks);
  EXPECT_EQ(TypeOf("/k/server.jks", "pkcs12"), StoreType::kPkcs12);  // the key wins, any case
  EXPECT_EQ(TypeOf("/k/server", "PEM"), StoreType::kPem);
  StoreOptions s;
  s.location = "/k/server.pfx";  // ZooKeeper knows only .pem .p12 .jks .bcfks
  StoreType t;
  std::string error;
  EXPECT_FALSE(ResolveStoreType(s, "ssl.keyStore", &t, &error));
  EXPECT_NE(error.find("ssl.keyStore.type is not set"), std::string::npos) << error;
  s.type = "PFX";
  EXPECT_FALSE(ResolveStoreType(s, "ssl.keyStore", &t, &error));
  EXPECT_NE(error.find("invalid value for ssl.keyStore.type: 'PFX'"), std::string::npos) << error;
}

TEST(StoreType, JksIsRefusedWithTheConversion) {
  StoreOptions s;
  s.location = "/etc/zk/keystore.jks";
  KeyStore ks;
  std::string error;
  EXPECT_FALSE(LoadKeyStore(s, &ks, &error));
  EXPECT_NE(error.find("JKS store, which only Java can read"), std::string::npos) << error;
  EXPECT_NE(error.find("keytool -importkeystore -srckeystore /etc/zk/keystore.jks -srcstoretype JKS -destkeystore "
                       "/etc/zk/keystore.p12 -deststoretype PKCS12"),
            std::string::npos)
      << error;
  std::vector<X509Ptr> trust;
  s.location = "/etc/zk/truststore.jks";
  EXPECT_FALSE(LoadTrustStore(s, &trust, &error));
  EXPECT_NE(error.find("ssl.trustStore.location /etc/zk/truststore.jks is a JKS store"), std::string::npos) << error;
}

TEST(StoreType, JksContentUnderAnotherName) {
  char path[] = "/tmp/aviary-jks-XXXXXX.p12";
  int fd = mkstemps(path, 4);
  ASSERT_GE(fd, 0);
  const unsigned char magic[] = {0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2};
  ASSERT_EQ(write(fd, magic, sizeof magic), static_cast<ssize_t>(sizeof magic));
  close(fd);
  StoreOptions s;
  s.location = path;
  KeyStore ks;
  std::string error;
  EXPECT_FALSE(LoadKeyStore(s, &ks, &error));
  EXPECT_NE(error.find("is a JKS store"), std::string::npos) << error;
  std::remove(path);
}

TEST(Context, SettingsRefusedByKey) {
  TlsOptions o;
  std::vector<std::string> warnings;
  std::string error;
  EXPECT_EQ(BuildServerContext(o, &warnings, &error), nullptr);
  EXPECT_NE(error.find("ssl.keyStore.location is not set"), std::string::npos) << error;
  o.enabled_protocols = {"TLSv1.2", "SSLv3"};
  EXPECT_EQ(BuildServerContext(o, &warnings, &error), nullptr);
  EXPECT_NE(error.find("ssl.enabledProtocols: unsupported protocol 'SSLv3'"), std::string::npos) << error;
  o.enabled_protocols.clear();
  o.cipher_suites = {"TLS_NO_SUCH_SUITE"};
  EXPECT_EQ(BuildServerContext(o, &warnings, &error), nullptr);
  EXPECT_NE(error.find("none of the listed cipher suites"), std::string::npos) << error;
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("TLS_NO_SUCH_SUITE"), std::string::npos);
}

}  // namespace
}  // namespace aviary::tls
