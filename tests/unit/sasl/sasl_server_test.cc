// The Cyrus SASL server (sasl/sasl_server.h) against Cyrus' own DIGEST-MD5
// client in-process, as ZooKeeper's clients run it: service "zookeeper",
// server name "zk-sasl-md5". Valid and wrong passwords, unknown users,
// oversized and garbage tokens, and two authenticators in one process
// that must not see each other's users.
#include "sasl/sasl_server.h"

#include <gtest/gtest.h>
#include <sasl/sasl.h>

#include <cstring>
#include <map>
#include <mutex>
#include <vector>

namespace aviary::sasl {
namespace {

struct ClientCreds {
  std::string user;
  std::string password;
  sasl_secret_t* secret = nullptr;
  std::vector<char> secret_buf;
};

int GetSimple(void* ctx, int id, const char** result, unsigned* len) {
  auto* c = static_cast<ClientCreds*>(ctx);
  if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME) return SASL_BADPARAM;
  *result = c->user.c_str();
  if (len != nullptr) *len = static_cast<unsigned>(c->user.size());
  return SASL_OK;
}

int GetSecret(sasl_conn_t*, void* ctx, int id, sasl_secret_t** out) {
  auto* c = static_cast<ClientCreds*>(ctx);
  if (id != SASL_CB_PASS) return SASL_BADPARAM;
  c->secret_buf.assign(sizeof(sasl_secret_t) + c->password.size() + 1, 0);
  c->secret = reinterpret_cast<sasl_secret_t*>(c->secret_buf.data());
  c->secret->len = c->password.size();
  std::memcpy(c->secret->data, c->password.data(), c->password.size());
  *out = c->secret;
  return SASL_OK;
}

// Runs a DIGEST-MD5 exchange between Cyrus' client and `auth`; returns the
// final server step.
StepResult RunDigest(Authenticator& auth, const std::string& user, const std::string& password) {
  static std::once_flag once;
  std::call_once(once, [] { sasl_client_init(nullptr); });
  ClientCreds creds;
  creds.user = user;
  creds.password = password;
  auto proc = [](auto* f) { return reinterpret_cast<int (*)()>(reinterpret_cast<void (*)()>(f)); };
  sasl_callback_t cbs[] = {
      {SASL_CB_AUTHNAME, proc(&GetSimple), &creds},
      {SASL_CB_USER, proc(&GetSimple), &creds},
      {SASL_CB_PASS, proc(&GetSecret), &creds},
      {SASL_CB_LIST_END, nullptr, nullptr},
  };
  sasl_conn_t* client = nullptr;
  EXPECT_EQ(sasl_client_new("zookeeper", "zk-sasl-md5", nullptr, nullptr, cbs, 0, &client), SASL_OK);
  std::string err;
  auto x = auth.Begin(&err);
  EXPECT_TRUE(x) << err;
  const char* out = nullptr;
  unsigned out_len = 0;
  const char* mech = nullptr;
  EXPECT_EQ(sasl_client_start(client, "DIGEST-MD5", nullptr, &out, &out_len, &mech), SASL_CONTINUE);
  StepResult r = x->Step(std::string_view(out, out_len));  // empty first token, as the Java client
  for (int i = 0; i < 5 && r.status == StepResult::kContinue; ++i) {
    int rc = sasl_client_step(client, r.token.data(), static_cast<unsigned>(r.token.size()), nullptr, &out, &out_len);
    if (rc != SASL_OK && rc != SASL_CONTINUE) break;
    r = x->Step(std::string_view(out == nullptr ? "" : out, out_len));
  }
  if (r.status == StepResult::kSuccess) {
    // The client checks the server's rspauth.
    EXPECT_FALSE(r.token_null);
    EXPECT_EQ(sasl_client_step(client, r.token.data(), static_cast<unsigned>(r.token.size()), nullptr, &out, &out_len),
              SASL_OK);
  }
  sasl_dispose(&client);
  return r;
}

std::unique_ptr<Authenticator> Make(std::map<std::string, std::string> users, std::string super_password = "") {
  AuthenticatorOptions o;
  o.login.digest_users = std::move(users);
  o.super_password = std::move(super_password);
  std::string err;
  auto a = Authenticator::Create(std::move(o), &err);
  EXPECT_TRUE(a) << err;
  return a;
}

TEST(SaslServer, DigestMd5ValidPasswordAuthenticates) {
  auto auth = Make({{"bob", "bobsecret"}, {"alice", "x"}});
  ASSERT_EQ(auth->mechanism(), "DIGEST-MD5");
  StepResult r = RunDigest(*auth, "bob", "bobsecret");
  EXPECT_EQ(r.status, StepResult::kSuccess) << r.error;
  EXPECT_EQ(r.id, "bob");
}

TEST(SaslServer, DigestMd5WrongPasswordOrUnknownUserFails) {
  auto auth = Make({{"bob", "bobsecret"}});
  StepResult r = RunDigest(*auth, "bob", "wrong");
  EXPECT_EQ(r.status, StepResult::kFailure);
  EXPECT_FALSE(r.error.empty());
  EXPECT_TRUE(r.token_null);
  r = RunDigest(*auth, "mallory", "bobsecret");
  EXPECT_EQ(r.status, StepResult::kFailure);
}

TEST(SaslServer, TwoAuthenticatorsKeepTheirOwnUsers) {
  auto a = Make({{"bob", "pw-a"}});
  auto b = Make({{"bob", "pw-b"}, {"carol", "c"}});
  EXPECT_EQ(RunDigest(*a, "bob", "pw-a").status, StepResult::kSuccess);
  EXPECT_EQ(RunDigest(*b, "bob", "pw-a").status, StepResult::kFailure);
  EXPECT_EQ(RunDigest(*b, "bob", "pw-b").status, StepResult::kSuccess);
  EXPECT_EQ(RunDigest(*a, "carol", "c").status, StepResult::kFailure);
}

TEST(SaslServer, SuperPasswordOverridesTheJaasEntry) {
  auto auth = Make({{"super", "jaas"}}, "property");
  EXPECT_EQ(RunDigest(*auth, "super", "jaas").status, StepResult::kFailure);
  StepResult r = RunDigest(*auth, "super", "property");
  EXPECT_EQ(r.status, StepResult::kSuccess) << r.error;
  EXPECT_EQ(r.id, "super");
}

TEST(SaslServer, HostileTokensFailCleanly) {
  auto auth = Make({{"bob", "pw"}});
  std::string err;
  auto x = auth->Begin(&err);
  ASSERT_TRUE(x);
  StepResult r = x->Step("");
  ASSERT_EQ(r.status, StepResult::kContinue);
  EXPECT_NE(r.token.find("realm=\"zk-sasl-md5\""), std::string::npos) << r.token;
  r = x->Step(std::string(300, '\xff'));
  EXPECT_EQ(r.status, StepResult::kFailure);
  EXPECT_EQ(x->Step("again").status, StepResult::kFailure);  // over: every later step fails
  x = auth->Begin(&err);
  ASSERT_TRUE(x);
  r = x->Step(std::string(kMaxSaslTokenBytes + 1, 'a'));
  EXPECT_EQ(r.status, StepResult::kFailure);
  EXPECT_NE(r.error.find("at most"), std::string::npos);
  x = auth->Begin(&err);
  ASSERT_EQ(x->Step("").status, StepResult::kContinue);
  EXPECT_EQ(x->Step("username=\"bob\",realm=\"zk-sasl-md5\",nonce=\"x\",cnonce=\"y\",nc=00000001,qop=auth,"
                    "digest-uri=\"zookeeper/zk-sasl-md5\",response=0123456789abcdef0123456789abcdef")
                .status,
            StepResult::kFailure);
}

// Cyrus leaks a repeated directive's earlier value: such responses, and
// ones over RFC 2831's 4096 bytes, never reach it.
TEST(SaslServer, RepeatedDirectivesAndLongResponsesAreRefusedFirst) {
  auto auth = Make({{"bob", "pw"}});
  std::string err;
  auto x = auth->Begin(&err);
  ASSERT_EQ(x->Step("").status, StepResult::kContinue);
  StepResult r = x->Step("username=\"bob\",nonce=\"a,nonce=b\",Nonce=\"c\"");
  EXPECT_EQ(r.status, StepResult::kFailure);
  EXPECT_NE(r.error.find("directive 'nonce' repeated"), std::string::npos) << r.error;
  x = auth->Begin(&err);
  ASSERT_EQ(x->Step("").status, StepResult::kContinue);
  r = x->Step("username=\"" + std::string(5000, 'b') + "\"");
  EXPECT_EQ(r.status, StepResult::kFailure);
  EXPECT_NE(r.error.find("RFC 2831"), std::string::npos) << r.error;
  // A quoted comma or escaped quote is no new directive: a valid exchange passes.
  EXPECT_EQ(RunDigest(*auth, "bob", "pw").status, StepResult::kSuccess);
}

}  // namespace
}  // namespace aviary::sasl
