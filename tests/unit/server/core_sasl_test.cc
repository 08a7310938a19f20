// SASL and enforce.auth on the core (core_sasl.cc): the reply headers
// ZooKeeper 3.8's processSasl and AuthenticationHelper send, the close that
// follows a failure, and which requests enforce.auth lets through.
#include <gtest/gtest.h>

#include "core_harness.h"

namespace aviary::server::testing {
namespace {

using proto::Err;
using proto::OpCode;
using Kind = Item::Kind;

constexpr int64_t kT0 = 100000;

int32_t E(Err e) { return static_cast<int32_t>(e); }

CoreOptions WithSasl(bool enforce, std::vector<std::string> schemes = {"sasl"}) {
  CoreOptions o = CoreHarness::DefaultOptions();
  sasl::AuthenticatorOptions a;
  a.login.digest_users["bob"] = "pw";
  std::string err;
  o.sasl = sasl::Authenticator::Create(std::move(a), &err);
  EXPECT_TRUE(o.sasl) << err;
  o.enforce_auth = enforce;
  o.enforce_auth_schemes = std::move(schemes);
  return o;
}

TEST(CoreSasl, ChallengeThenGarbageFailsAndCloses) {
  CoreHarness h(false, WithSasl(false));
  h.Handshake(1, kT0);
  h.Take(1);
  h.Send(1, 1, OpCode::kSasl, proto::GetSaslRequest{""});
  h.Run(kT0 + 1);
  auto items = h.Take(1);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].hdr.xid, 1);
  EXPECT_EQ(items[0].hdr.zxid, 0);
  EXPECT_EQ(items[0].hdr.err, 0);
  const auto* rsp = std::get_if<proto::SetSaslResponse>(&items[0].body);
  ASSERT_NE(rsp, nullptr);
  EXPECT_NE(rsp->token.find("realm=\"zk-sasl-md5\""), std::string::npos) << rsp->token;
  h.Send(1, 2, OpCode::kSasl, proto::GetSaslRequest{"not a digest response"});
  h.Run(kT0 + 2);
  items = h.Take(1);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].hdr.xid, 2);
  EXPECT_EQ(items[0].hdr.zxid, 0);
  EXPECT_EQ(items[0].hdr.err, E(Err::kAuthFailed));
  EXPECT_EQ(items[1].kind, Kind::kClose);
}

TEST(CoreSasl, FailureWhenSaslIsRequiredAnswersRequireSaslAuth) {
  CoreHarness h(false, WithSasl(true));
  h.Handshake(1, kT0);
  h.Take(1);
  h.Send(1, 1, OpCode::kSasl, proto::GetSaslRequest{std::string(sasl::kMaxSaslTokenBytes + 1, 'x')});
  h.Run(kT0 + 1);
  auto items = h.Take(1);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].hdr.err, E(Err::kSessionClosedRequireSaslAuth));
  EXPECT_EQ(items[1].kind, Kind::kClose);
}

TEST(CoreSasl, EnforceAuthRefusesEveryOtherRequestUnauthenticated) {
  for (OpCode op : {OpCode::kPing, OpCode::kGetData, OpCode::kCreate, OpCode::kCloseSession}) {
    CoreHarness h(false, WithSasl(true));
    h.Handshake(1, kT0);
    h.Take(1);
    proto::RequestBody body = proto::Empty{};
    if (op == OpCode::kGetData) body = proto::GetDataRequest{"/", false};
    if (op == OpCode::kCreate) body = proto::CreateRequest{"/x", "", {{31, {"world", "anyone"}}}, 0, -1, false};
    h.Send(1, 9, op, body);
    h.Run(kT0 + 1);
    auto items = h.Take(1);
    ASSERT_EQ(items.size(), 2u) << proto::OpName(op);
    EXPECT_EQ(items[0].hdr.xid, 9);
    EXPECT_EQ(items[0].hdr.zxid, 0);
    EXPECT_EQ(items[0].hdr.err, E(Err::kSessionClosedRequireSaslAuth));
    EXPECT_EQ(items[1].kind, Kind::kClose);
  }
}

TEST(CoreSasl, EnforceAuthAcceptsAnIdOfAConfiguredScheme) {
  CoreHarness h(false, WithSasl(true, {"sasl", "digest"}));
  h.Handshake(1, kT0);
  h.Take(1);
  h.Send(1, proto::xid::kAuth, OpCode::kAuth, proto::AuthPacket{0, "digest", "u:p"});  // auth itself passes
  h.Send(1, 3, OpCode::kGetData, proto::GetDataRequest{"/", false});
  h.Run(kT0 + 1);
  auto items = h.Take(1);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].hdr.err, 0);
  EXPECT_EQ(items[1].hdr.xid, 3);
  EXPECT_EQ(items[1].hdr.err, 0);
  // "ip": every connection has its ip id, as in ZooKeeper.
  CoreHarness ip(false, WithSasl(true, {"ip"}));
  ip.Handshake(1, kT0);
  ip.Take(1);
  ip.Send(1, 4, OpCode::kGetData, proto::GetDataRequest{"/", false});
  ip.Run(kT0 + 1);
  items = ip.Take(1);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].hdr.err, 0);
}

}  // namespace
}  // namespace aviary::server::testing
