// The JAAS parser (sasl/jaas.h) and the server login built from it
// (sasl/login.h): ZooKeeper's documented files parse; malformed input of
// every kind is refused with a line number, never a crash.
#include "sasl/jaas.h"

#include <gtest/gtest.h>

#include <random>

#include "sasl/login.h"

namespace aviary::sasl {
namespace {

constexpr std::string_view kZooKeeperDocExample = R"(
/* zookeeperAdmin: DIGEST-MD5 and Kerberos */
Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_super="adminsecret"
       user_bob="bobsecret";
};
Client {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       username="bob"
       password="bobsecret";   // the client's own
};
KServer {
  com.sun.security.auth.module.Krb5LoginModule required
  useKeyTab=true
  keyTab="/path/to/server/keytab"
  storeKey=true
  useTicketCache=false
  principal="zookeeper/yourzkhostname@EXAMPLE.COM";
};
)";

TEST(Jaas, ParsesZooKeeperDocumentedSections) {
  JaasConfig cfg;
  std::string err;
  ASSERT_TRUE(ParseJaas(kZooKeeperDocExample, &cfg, &err)) << err;
  ASSERT_EQ(cfg.sections.size(), 3u);
  const JaasSection* server = cfg.Find("Server");
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(server->modules.size(), 1u);
  EXPECT_EQ(server->modules[0].login_module, "org.apache.zookeeper.server.auth.DigestLoginModule");
  EXPECT_EQ(server->modules[0].control_flag, "required");
  EXPECT_EQ(*server->modules[0].Option("user_bob"), "bobsecret");
  EXPECT_EQ(cfg.Find("Client")->modules[0].Option("password")->size(), 9u);
  EXPECT_EQ(*cfg.Find("KServer")->modules[0].Option("useKeyTab"), "true");
  EXPECT_EQ(cfg.Find("Nope"), nullptr);
}

TEST(Jaas, QuotedValuesEscapesCommentsAndFlags) {
  JaasConfig cfg;
  std::string err;
  ASSERT_TRUE(ParseJaas("# hash comment\nS{ a.B OPTIONAL k=\"x \\\"y\\\" ;{}=\" j=v2 k=\"last\" ; c.D Sufficient; };",
                        &cfg, &err))
      << err;
  const JaasSection* s = cfg.Find("S");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->modules.size(), 2u);
  EXPECT_EQ(s->modules[0].control_flag, "optional");
  EXPECT_EQ(*s->modules[0].Option("k"), "last");  // a repeated key keeps the last value
  EXPECT_EQ(*s->modules[0].Option("j"), "v2");
  EXPECT_EQ(s->modules[1].control_flag, "sufficient");
  ASSERT_TRUE(ParseJaas("S { a.B required k=\"a;b{}\"; };", &cfg, &err)) << err;
  EXPECT_EQ(*cfg.Find("S")->modules[0].Option("k"), "a;b{}");
  ASSERT_TRUE(ParseJaas("", &cfg, &err));
  EXPECT_TRUE(cfg.sections.empty());
  ASSERT_TRUE(ParseJaas("Empty { };", &cfg, &err));
  EXPECT_TRUE(cfg.Find("Empty")->modules.empty());
}

void ExpectError(std::string_view text, std::string_view want) {
  JaasConfig cfg;
  cfg.sections.push_back({"untouched", {}});
  std::string err;
  EXPECT_FALSE(ParseJaas(text, &cfg, &err)) << text;
  EXPECT_NE(err.find(want), std::string::npos) << "text: " << text << "\nerror: " << err;
  EXPECT_EQ(err.rfind("line ", 0), want.starts_with("larger") || want.starts_with("contains") ? std::string::npos : 0u)
      << err;
  ASSERT_EQ(cfg.sections.size(), 1u);  // not written on failure
}

TEST(Jaas, MalformedInputIsRefusedWithTheLine) {
  ExpectError("Server {\n a.B required k=v\n", "line 3: expected an option name or ';'");
  ExpectError("Server { a.B mandatory; };", "invalid control flag 'mandatory'");
  ExpectError("Server { a.B required; }", "expected ';' after the '}' of section 'Server'");
  ExpectError("Server a.B required; };", "expected '{' after section name 'Server'");
  ExpectError("Server { a.B required k=; };", "expected a value for option 'k'");
  ExpectError("Server { a.B required k v; };", "expected '=' after option 'k'");
  ExpectError("Server { a.B required k=\"open; };", "unterminated quoted string");
  ExpectError("Server { a.B required k=\"new\nline\"; };", "line 1: newline inside a quoted string");
  ExpectError("/* never closed", "unterminated /* comment");
  ExpectError("S { a.B required; };\nS { a.B required; };", "line 2: section 'S' appears twice");
  ExpectError("{ };", "expected a section name");
  ExpectError("S { required; };", "expected a control flag after 'required'");
  ExpectError("S { a.B required k=\"x\\", "unterminated quoted string");
  ExpectError(std::string_view("S\0{};", 5), "contains a NUL byte");
  ExpectError(std::string(kMaxJaasBytes + 1, ' '), "larger than");
}

TEST(Jaas, RandomBytesNeverCrash) {
  std::mt19937 rng(8);
  const std::string alphabet = "S{};=\"\\/*# \n\ta.Brequiredk=v";
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    size_t n = rng() % 64;
    for (size_t j = 0; j < n; ++j)
      text.push_back(rng() % 4 == 0 ? static_cast<char>(rng()) : alphabet[rng() % alphabet.size()]);
    JaasConfig cfg;
    std::string err;
    if (!ParseJaas(text, &cfg, &err)) {
      EXPECT_FALSE(err.empty());
    }
  }
}

TEST(ServerLogin, DigestUsersFromEveryModuleAndDigestByDefault) {
  JaasConfig cfg;
  std::string err;
  ASSERT_TRUE(ParseJaas(kZooKeeperDocExample, &cfg, &err));
  ServerLogin login;
  ASSERT_TRUE(BuildServerLogin(cfg, "Server", &login, &err)) << err;
  EXPECT_EQ(login.Mechanism(), "DIGEST-MD5");
  ASSERT_EQ(login.digest_users.size(), 2u);
  EXPECT_EQ(login.digest_users["super"], "adminsecret");
  EXPECT_EQ(login.digest_users["bob"], "bobsecret");
  EXPECT_FALSE(BuildServerLogin(cfg, "Missing", &login, &err));
  EXPECT_NE(err.find("no JAAS section named 'Missing'"), std::string::npos) << err;
}

// Quorum SASL's sections, as ZooKeeper's "Quorum SASL" documentation writes them.
TEST(LearnerLogin, QuorumSectionsDigestAndKerberosRefused) {
  JaasConfig cfg;
  std::string err;
  ASSERT_TRUE(
      ParseJaas("QuorumServer { org.apache.zookeeper.server.auth.DigestLoginModule required "
                "user_test=\"test\"; };\n"
                "QuorumLearner { org.apache.zookeeper.server.auth.DigestLoginModule required "
                "username=\"test\" password=\"test\"; };\n"
                "KLearner { com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true "
                "keyTab=\"/k\" principal=\"learner/host@R\"; };\n"
                "Empty { org.apache.zookeeper.server.auth.DigestLoginModule required; };\n",
                &cfg, &err))
      << err;
  LearnerLogin learner;
  ASSERT_TRUE(BuildLearnerLogin(cfg, "QuorumLearner", &learner, &err)) << err;
  EXPECT_EQ(learner.user, "test");
  EXPECT_EQ(learner.password, "test");
  ServerLogin server;
  ASSERT_TRUE(BuildServerLogin(cfg, "QuorumServer", &server, &err)) << err;
  EXPECT_EQ(server.digest_users["test"], "test");
  EXPECT_FALSE(BuildLearnerLogin(cfg, "KLearner", &learner, &err));
  EXPECT_NE(err.find("Kerberos"), std::string::npos) << err;
  EXPECT_FALSE(BuildLearnerLogin(cfg, "Empty", &learner, &err));
  EXPECT_NE(err.find("username and password"), std::string::npos) << err;
  EXPECT_FALSE(BuildLearnerLogin(cfg, "Missing", &learner, &err));
  EXPECT_NE(err.find("quorum.auth.learner.saslLoginContext"), std::string::npos) << err;
}

TEST(ServerLogin, KerberosPrincipalMakesItGssapi) {
  JaasConfig cfg;
  std::string err;
  ASSERT_TRUE(ParseJaas(kZooKeeperDocExample, &cfg, &err));
  ServerLogin login;
  ASSERT_TRUE(BuildServerLogin(cfg, "KServer", &login, &err)) << err;
  EXPECT_EQ(login.Mechanism(), "GSSAPI");
  EXPECT_EQ(login.kerberos->service, "zookeeper");
  EXPECT_EQ(login.kerberos->host, "yourzkhostname");
  EXPECT_EQ(login.kerberos->keytab, "/path/to/server/keytab");
}

// `module`: one login module entry of a "Server" section.
TEST(ServerLogin, IbmKrb5LoginModuleKeytabForm) {
  JaasConfig cfg;
  std::string err;
  ASSERT_TRUE(
      ParseJaas("Server { com.ibm.security.auth.module.Krb5LoginModule required credsType=acceptor "
                "useKeytab=\"file:/etc/zk.keytab\" principal=\"zookeeper/h@R\"; };",
                &cfg, &err))
      << err;
  ServerLogin login;
  ASSERT_TRUE(BuildServerLogin(cfg, "Server", &login, &err)) << err;
  EXPECT_EQ(login.kerberos->keytab, "/etc/zk.keytab");
  EXPECT_EQ(login.kerberos->principal, "zookeeper/h@R");
}

void ExpectLoginError(const std::string& module, std::string_view want) {
  JaasConfig cfg;
  std::string err;
  std::string text = "Server { " + module + " };";
  ASSERT_TRUE(ParseJaas(text, &cfg, &err)) << err;
  ServerLogin login;
  EXPECT_FALSE(BuildServerLogin(cfg, "Server", &login, &err)) << text;
  EXPECT_NE(err.find(want), std::string::npos) << err;
}

TEST(ServerLogin, RefusesWhatItCannotHonour) {
  constexpr std::string_view k = "com.sun.security.auth.module.Krb5LoginModule required ";
  ExpectLoginError(std::string(k) + "keyTab=\"/k\" principal=\"a/b@R\";", "useKeyTab=true is required");
  ExpectLoginError(std::string(k) + "useKeyTab=true principal=\"a/b@R\";", "keyTab is required");
  ExpectLoginError(std::string(k) + "useKeyTab=true keyTab=\"/k\";", "principal is required");
  ExpectLoginError(std::string(k) + "useKeyTab=true keyTab=\"/k\" principal=\"zookeeper@R\";",
                   "not of the form service/host@REALM");
  ExpectLoginError(std::string(k) + "useKeyTab=true keyTab=\"/k\" principal=\"zookeeper/h\";",
                   "not of the form service/host@REALM");
  ExpectLoginError("org.example.LdapLoginModule required;", "org.example.LdapLoginModule is not supported");
}

TEST(JaasLocation, AsZooKeeperScriptsPassIt) {
  EXPECT_EQ(JaasPathFromFlags("-Xmx1g -Djava.security.auth.login.config=/etc/zk/jaas.conf -Dx=y"), "/etc/zk/jaas.conf");
  EXPECT_EQ(JaasPathFromFlags("-Djava.security.auth.login.config==/a -Djava.security.auth.login.config=\"/b\""), "/b");
  EXPECT_EQ(JaasPathFromFlags("-Dzookeeper.authProvider.1=x"), "");
  constexpr std::string_view kJavaEnv =
      "#!/bin/sh\nexport SERVER_JVMFLAGS=\"$SERVER_JVMFLAGS "
      "-Djava.security.auth.login.config=/opt/zk/conf/jaas.conf\"\n";
  EXPECT_EQ(FindJaasPath("", "", kJavaEnv), "/opt/zk/conf/jaas.conf");
  EXPECT_EQ(FindJaasPath("-Djava.security.auth.login.config=/env", "-Djava.security.auth.login.config=/jvm", kJavaEnv),
            "/env");
  EXPECT_EQ(FindJaasPath("", "-Djava.security.auth.login.config=/jvm", kJavaEnv), "/jvm");
  EXPECT_EQ(FindJaasPath("", "", ""), "");
}

}  // namespace
}  // namespace aviary::sasl
