#include "txn/acl.h"

#include <gtest/gtest.h>

namespace aviary::txn {
namespace {

using proto::Err;
namespace perms = proto::perms;

SessionCtx Ctx(std::vector<proto::Id> ids, bool super = false) {
  SessionCtx c;
  c.session_id = 1;
  c.ids = std::move(ids);
  c.is_super = super;
  return c;
}

// Connections from one address share one identity list; adding an identity
// copies the list for that connection only (copy on write).
TEST(Acl, IdListIsSharedUntilOneConnectionAddsAnIdentity) {
  IdList ip = std::vector<proto::Id>{{"ip", "10.0.0.1"}};
  SessionCtx a, b;
  a.ids = ip;
  b.ids = ip;
  EXPECT_EQ(ip.use_count(), 3);
  EXPECT_EQ(&a.ids.front(), &b.ids.front());
  a.ids.push_back({"digest", DigestId("u", "p")});
  EXPECT_EQ(a.ids.size(), 2u);
  EXPECT_EQ(b.ids.size(), 1u);
  EXPECT_EQ(ip.use_count(), 2);
  EXPECT_EQ(a.ids[0], (proto::Id{"ip", "10.0.0.1"}));
  EXPECT_EQ(a.ids[1].scheme, "digest");
  EXPECT_EQ(b.ids, (std::vector<proto::Id>{{"ip", "10.0.0.1"}}));
  IdList empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.begin(), empty.end());
  empty.push_back({"world", "anyone"});
  EXPECT_EQ(empty.size(), 1u);
  // Permissions see each connection's own list.
  const proto::AclList digest_only = {proto::Acl{perms::kAll, proto::Id{"digest", DigestId("u", "p")}}};
  EXPECT_TRUE(CheckPermission(digest_only, perms::kRead, a));
  EXPECT_FALSE(CheckPermission(digest_only, perms::kRead, b));
}

TEST(Acl, DigestVectors) {
  // Expected values from `echo -n user:pw | openssl sha1 -binary | base64`.
  EXPECT_EQ(DigestId("user", "pw"), "user:2Om+GBbT2q/tS6pdvACZbbm7/1A=");
  EXPECT_EQ(DigestId("alice", "secret"), "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=");
  EXPECT_EQ(DigestOfAuth("super:test"), "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
  EXPECT_EQ(DigestOfAuth("bob:"), "bob:tK1fpNO1hB0F++FhHpSq0Fa4tv0=");
}

TEST(Acl, Authenticate) {
  AuthOutcome a = Authenticate("digest", "user:pw", "");
  EXPECT_EQ(a.err, Err::kOk);
  EXPECT_FALSE(a.is_super);
  EXPECT_EQ(a.ids, (std::vector<proto::Id>{{"digest", "user:2Om+GBbT2q/tS6pdvACZbbm7/1A="}}));
  a = Authenticate("digest", "super:test", "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
  EXPECT_TRUE(a.is_super);
  ASSERT_EQ(a.ids.size(), 2u);
  EXPECT_EQ(a.ids[0], (proto::Id{"super", ""}));
  EXPECT_EQ(a.ids[1].scheme, "digest");
  EXPECT_EQ(Authenticate("digest", "super:wrong", "super:D/InIHSb7yEEbrWz8b9l71RjZJU=").is_super, false);
  EXPECT_EQ(Authenticate("ip", "whatever", "").err, Err::kOk);
  EXPECT_TRUE(Authenticate("ip", "whatever", "").ids.empty());
  EXPECT_EQ(Authenticate("world", "anyone", "").err, Err::kAuthFailed);
  EXPECT_EQ(Authenticate("sasl", "x", "").err, Err::kAuthFailed);
}

TEST(Acl, IpMatching) {
  EXPECT_TRUE(IpMatches("10.1.2.3", "10.1.2.3"));
  EXPECT_FALSE(IpMatches("10.1.2.4", "10.1.2.3"));
  EXPECT_TRUE(IpMatches("10.1.2.3", "10.0.0.0/8"));
  EXPECT_FALSE(IpMatches("11.1.2.3", "10.0.0.0/8"));
  EXPECT_TRUE(IpMatches("192.168.1.77", "192.168.1.64/26"));
  EXPECT_FALSE(IpMatches("192.168.1.128", "192.168.1.64/26"));
  EXPECT_TRUE(IpMatches("1.2.3.4", "9.9.9.9/0"));
  EXPECT_TRUE(IpMatches("172.16.5.4", "172.20.0.0/12"));
  EXPECT_FALSE(IpMatches("172.32.0.1", "172.20.0.0/12"));
  EXPECT_FALSE(IpMatches("::1", "0.0.0.0/0"));  // IPv4 only, as ZooKeeper 3.8
  EXPECT_FALSE(IpMatches("1.2.3.4", "1.2.3.4/33"));
  EXPECT_TRUE(IsValidIpId("1.2.3.4"));
  EXPECT_TRUE(IsValidIpId("1.2.3.4/24"));
  EXPECT_TRUE(IsValidIpId("001.2.3.4"));
  EXPECT_FALSE(IsValidIpId("1.2.3"));
  EXPECT_FALSE(IsValidIpId("1.2.3.4.5"));
  EXPECT_FALSE(IsValidIpId("1.2.3.256"));
  EXPECT_FALSE(IsValidIpId("1.2.3.4/"));
  EXPECT_FALSE(IsValidIpId("1.2.3.4/x"));
  EXPECT_FALSE(IsValidIpId("::1"));
  EXPECT_FALSE(IsValidIpId("host.example"));
}

TEST(Acl, DigestIdValidity) {
  EXPECT_TRUE(IsValidDigestId("u:abc"));
  EXPECT_TRUE(IsValidDigestId(":abc"));
  EXPECT_TRUE(IsValidDigestId("u:abc:"));  // Java split drops trailing ""
  EXPECT_FALSE(IsValidDigestId("u"));
  EXPECT_FALSE(IsValidDigestId("u:"));
  EXPECT_FALSE(IsValidDigestId("a:b:c"));
  EXPECT_FALSE(IsValidDigestId(""));
  EXPECT_FALSE(IsValidDigestId("::"));
}

TEST(Acl, CheckPermission) {
  const proto::AclList acl = {{perms::kRead, {"world", "anyone"}},
                              {perms::kWrite | perms::kDelete, {"digest", "u:h"}},
                              {perms::kAdmin, {"ip", "10.0.0.0/8"}}};
  const SessionCtx anon = Ctx({{"ip", "192.168.0.1"}});
  EXPECT_TRUE(CheckPermission(acl, perms::kRead, anon));
  EXPECT_FALSE(CheckPermission(acl, perms::kWrite, anon));
  EXPECT_FALSE(CheckPermission(acl, perms::kAdmin, anon));
  const SessionCtx digest = Ctx({{"ip", "192.168.0.1"}, {"digest", "u:h"}});
  EXPECT_TRUE(CheckPermission(acl, perms::kWrite, digest));
  EXPECT_TRUE(CheckPermission(acl, perms::kDelete, digest));
  EXPECT_FALSE(CheckPermission(acl, perms::kCreate, digest));
  EXPECT_FALSE(CheckPermission(acl, perms::kWrite, Ctx({{"digest", "u:H"}})));
  EXPECT_TRUE(CheckPermission(acl, perms::kAdmin, Ctx({{"ip", "10.9.8.7"}})));
  EXPECT_TRUE(CheckPermission(acl, perms::kRead | perms::kAdmin, anon));  // any bit
  EXPECT_TRUE(CheckPermission(acl, perms::kCreate, Ctx({}, true)));
  EXPECT_TRUE(CheckPermission(acl, perms::kCreate, Ctx({{"super", ""}})));
  EXPECT_TRUE(CheckPermission({}, perms::kAdmin, anon));  // empty ACL: open
  // An unknown scheme in a stored ACL never matches; nor does x509 while
  // its provider is not configured (ZooKeeper's ProviderRegistry).
  EXPECT_FALSE(CheckPermission({{perms::kAll, {"foo", "CN=a"}}}, perms::kRead, Ctx({{"foo", "CN=a"}})));
  EXPECT_FALSE(CheckPermission({{perms::kAll, {"x509", "CN=a"}}}, perms::kRead, Ctx({{"x509", "CN=a"}})));
}

// The x509 scheme (X509AuthenticationProvider) once configured: equal DNs
// match, "auth" expands to the session's x509 id.
TEST(Acl, X509Scheme) {
  proto::AclList out;
  const SessionCtx alice = Ctx({{"ip", "1.2.3.4"}, {"x509", "CN=alice,O=Example"}});
  EXPECT_EQ(FixupAcl({{perms::kAll, {"x509", "CN=alice,O=Example"}}}, alice, &out), Err::kInvalidAcl);
  SetX509SchemeEnabled(true);
  EXPECT_TRUE(CheckPermission({{perms::kRead, {"x509", "CN=alice,O=Example"}}}, perms::kRead, alice));
  EXPECT_FALSE(CheckPermission({{perms::kRead, {"x509", "CN=alice, O=Example"}}}, perms::kRead, alice));
  EXPECT_FALSE(CheckPermission({{perms::kWrite, {"x509", "CN=alice,O=Example"}}}, perms::kRead, alice));
  EXPECT_EQ(FixupAcl({{perms::kAll, {"x509", "CN=bob"}}}, alice, &out), Err::kOk);
  ASSERT_EQ(FixupAcl({{perms::kRead, {"auth", ""}}}, alice, &out), Err::kOk);
  EXPECT_EQ(out, (proto::AclList{{perms::kRead, {"x509", "CN=alice,O=Example"}}}));
  SetX509SchemeEnabled(false);
}

TEST(Acl, Fixup) {
  proto::AclList out;
  const SessionCtx anon = Ctx({{"ip", "1.2.3.4"}});
  EXPECT_EQ(FixupAcl({}, anon, &out), Err::kInvalidAcl);
  EXPECT_EQ(FixupAcl({{perms::kAll, {"world", "anyone"}}, {perms::kAll, {"world", "anyone"}}}, anon, &out), Err::kOk);
  EXPECT_EQ(out.size(), 1u);  // exact duplicates removed
  EXPECT_EQ(FixupAcl({{perms::kAll, {"world", "someone"}}}, anon, &out), Err::kInvalidAcl);
  EXPECT_EQ(FixupAcl({{perms::kAll, {"foo", "bar"}}}, anon, &out), Err::kInvalidAcl);
  EXPECT_EQ(FixupAcl({{perms::kAll, {"digest", "nocolon"}}}, anon, &out), Err::kInvalidAcl);
  EXPECT_EQ(FixupAcl({{perms::kAll, {"ip", "1.2.3"}}}, anon, &out), Err::kInvalidAcl);
  EXPECT_EQ(FixupAcl({{perms::kAll, {"auth", ""}}}, anon, &out), Err::kInvalidAcl);
  EXPECT_EQ(FixupAcl({{perms::kAll, {"auth", ""}}}, Ctx({{"ip", "1.2.3.4"}, {"super", ""}}), &out), Err::kInvalidAcl);
  const SessionCtx two = Ctx({{"ip", "1.2.3.4"}, {"digest", "a:1"}, {"digest", "b:2"}});
  ASSERT_EQ(FixupAcl({{perms::kRead, {"auth", "ignored"}}, {perms::kAll, {"ip", "10.0.0.0/8"}}}, two, &out), Err::kOk);
  EXPECT_EQ(out, (proto::AclList{{perms::kRead, {"digest", "a:1"}},
                                 {perms::kRead, {"digest", "b:2"}},
                                 {perms::kAll, {"ip", "10.0.0.0/8"}}}));
}

// SASLAuthenticationProvider: without it (no authProvider.N names it) a
// sasl ACL is InvalidACL and grants nothing, and "auth" skips sasl ids.
TEST(Acl, SaslSchemeNeedsItsProvider) {
  proto::AclList acl{{perms::kRead, {"sasl", "bob"}}};
  const SessionCtx bob = Ctx({{"ip", "1.2.3.4"}, {"sasl", "bob"}});
  proto::AclList out;
  EXPECT_EQ(FixupAcl(acl, bob, &out), Err::kInvalidAcl);
  EXPECT_FALSE(CheckPermission(acl, perms::kRead, bob));
  EXPECT_EQ(FixupAcl({{perms::kAll, {"auth", ""}}}, bob, &out), Err::kInvalidAcl);
  SetSaslSchemeEnabled(true);
  EXPECT_EQ(FixupAcl(acl, bob, &out), Err::kOk);
  EXPECT_TRUE(CheckPermission(acl, perms::kRead, bob));
  SetSaslSchemeEnabled(false);
}

// SASLAuthenticationProvider once configured: matches, isValid, and "auth" expansion.
TEST(Acl, SaslScheme) {
  SetSaslSchemeEnabled(true);
  proto::AclList acl{{perms::kRead, {"sasl", "bob"}}};
  EXPECT_TRUE(CheckPermission(acl, perms::kRead, Ctx({{"ip", "127.0.0.1"}, {"sasl", "bob"}})));
  EXPECT_FALSE(CheckPermission(acl, perms::kRead, Ctx({{"sasl", "alice"}})));
  EXPECT_FALSE(CheckPermission(acl, perms::kWrite, Ctx({{"sasl", "bob"}})));
  EXPECT_FALSE(CheckPermission(acl, perms::kRead, Ctx({{"digest", "bob"}})));
  EXPECT_TRUE(CheckPermission(acl, perms::kRead, Ctx({{"sasl", "super"}})));  // the provider's own rule
  EXPECT_TRUE(IsValidSaslId("bob"));
  EXPECT_TRUE(IsValidSaslId("zk/host@EXAMPLE.COM"));
  EXPECT_TRUE(IsValidSaslId("a/b/c"));
  EXPECT_FALSE(IsValidSaslId("a@b@c"));
  EXPECT_FALSE(IsValidSaslId("a/b/c@R"));
  proto::AclList out;
  EXPECT_EQ(FixupAcl({{perms::kAll, {"sasl", "a@b@c"}}}, Ctx({}), &out), Err::kInvalidAcl);
  ASSERT_EQ(FixupAcl({{perms::kAll, {"auth", ""}}}, Ctx({{"ip", "1.2.3.4"}, {"sasl", "bob@R"}}), &out), Err::kOk);
  EXPECT_EQ(out, (proto::AclList{{perms::kAll, {"sasl", "bob@R"}}}));
  SetSaslSchemeEnabled(false);
}

}  // namespace
}  // namespace aviary::txn
