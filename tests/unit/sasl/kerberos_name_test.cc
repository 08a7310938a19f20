// KerberosName and the sasl id ZooKeeper's SaslServerCallbackHandler makes
// of an authenticated name (sasl/kerberos_name.h).
#include "sasl/kerberos_name.h"

#include <gtest/gtest.h>

namespace aviary::sasl {
namespace {

TEST(KerberosName, Parses) {
  auto k = ParseKerberosName("zookeeper/host.example.com@EXAMPLE.COM");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->service, "zookeeper");
  EXPECT_EQ(k->host, "host.example.com");
  EXPECT_EQ(k->realm, "EXAMPLE.COM");
  k = ParseKerberosName("bob");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->service, "bob");
  EXPECT_FALSE(k->realm);
  EXPECT_TRUE(ParseKerberosName("a/b/c"));  // no realm: taken whole, as ZooKeeper
  EXPECT_FALSE(ParseKerberosName("a@b@c"));
  EXPECT_FALSE(ParseKerberosName("a/b/c@R"));
  EXPECT_FALSE(ParseKerberosName("a@R/x"));
}

TEST(KerberosName, SaslIdAsZooKeeper) {
  constexpr std::string_view kRealm = "EXAMPLE.COM";
  EXPECT_EQ(SaslAuthorizedId("bob", kRealm, false, false), "bob");
  EXPECT_EQ(SaslAuthorizedId("client@EXAMPLE.COM", kRealm, false, false), "client@EXAMPLE.COM");
  EXPECT_EQ(SaslAuthorizedId("client@EXAMPLE.COM", kRealm, false, true), "client");
  EXPECT_EQ(SaslAuthorizedId("zk/host@EXAMPLE.COM", kRealm, false, false), "zk/host@EXAMPLE.COM");
  EXPECT_EQ(SaslAuthorizedId("zk/host@EXAMPLE.COM", kRealm, true, false), "zk@EXAMPLE.COM");
  EXPECT_EQ(SaslAuthorizedId("zk/host@EXAMPLE.COM", kRealm, true, true), "zk");
  // Another realm matches no DEFAULT rule: the name stays whole.
  EXPECT_EQ(SaslAuthorizedId("zk/host@OTHER.ORG", kRealm, true, true), "zk/host@OTHER.ORG");
  EXPECT_EQ(SaslAuthorizedId("a@b@c", kRealm, true, true), "a@b@c");
}

}  // namespace
}  // namespace aviary::sasl
