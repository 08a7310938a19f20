// aviary.maxSessions is enforced when a createSession is prepared, so a
// refused session never takes a zxid, is never logged and so can never come
// back at recovery (issue 6, item 11).
#include <gtest/gtest.h>

#include "core_harness.h"

namespace aviary::server::testing {
namespace {

using proto::OpCode;
using Kind = Item::Kind;

constexpr int64_t kT0 = 100000;

CoreOptions WithMaxSessions(size_t n) {
  CoreOptions o = CoreHarness::DefaultOptions();
  o.max_sessions = n;
  return o;
}

void Connect(CoreHarness& h, net::ConnId conn) {
  h.Open(conn);
  h.Connect(conn, 10000);
}

TEST(CoreSessionLimit, RefusedBeforeAnyTxnIsProposed) {
  CoreHarness h(/*held=*/true, WithMaxSessions(2));
  for (net::ConnId c = 1; c <= 4; ++c) Connect(h, c);
  h.Run(kT0);
  // Two createSession txns are in flight; the other two handshakes are
  // refused at once, without a txn of their own.
  EXPECT_EQ(h.held().held(), 2u);
  EXPECT_TRUE(h.IsClosed(3));
  EXPECT_TRUE(h.IsClosed(4));
  EXPECT_FALSE(h.IsClosed(1));
  h.held().Release();
  h.Run(kT0 + 1);
  for (net::ConnId c = 1; c <= 2; ++c) {
    auto items = h.Take(c);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].kind, Kind::kConnect);
    EXPECT_NE(items[0].connect.sessionId, 0);
  }
  for (net::ConnId c = 3; c <= 4; ++c) {
    auto items = h.Take(c);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].kind, Kind::kClose);  // no ConnectResponse at all
  }
  EXPECT_EQ(h.core().last_zxid(), 2);  // refused sessions consumed no zxid
}

TEST(CoreSessionLimit, ASlotFreesWhenTheCloseIsAppliedNotWhenProposed) {
  CoreHarness h(/*held=*/true, WithMaxSessions(1));
  proto::ConnectResponse a = h.Handshake(1, kT0);
  ASSERT_NE(a.sessionId, 0);
  h.Take(1);
  h.Send(1, 1, OpCode::kCloseSession, proto::Empty{});
  h.Run(kT0 + 1);
  ASSERT_EQ(h.held().held(), 1u);  // the closeSession, not yet committed

  Connect(h, 2);  // the closing session still holds the only slot
  h.Run(kT0 + 2);
  EXPECT_TRUE(h.IsClosed(2));
  EXPECT_EQ(h.held().held(), 1u);

  h.held().Release();
  h.Run(kT0 + 3);
  Connect(h, 3);
  h.Run(kT0 + 4);
  EXPECT_EQ(h.held().held(), 1u);  // this one is proposed
  h.held().Release();
  h.Run(kT0 + 5);
  auto items = h.Take(3);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, Kind::kConnect);
  EXPECT_NE(items[0].connect.sessionId, 0);
  EXPECT_EQ(h.core().last_zxid(), 3);  // create, close, create: nothing for the refused one
}

}  // namespace
}  // namespace aviary::server::testing
