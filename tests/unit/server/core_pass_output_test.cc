// Core: a pass's replies and flow-control credit per connection. The
// frames answered in a pass are handed back with that connection's reply
// buffer (one entry per connection, not a second one for the credit);
// credit for frames that were not answered by a reply (a write still
// waiting for its commit) comes once it is, and a connection with only
// credit still gets it.
#include <gtest/gtest.h>

#include "core_harness.h"

namespace aviary::server::testing {
namespace {

using proto::OpCode;
using Kind = Item::Kind;

constexpr int64_t kT0 = 100000;

size_t Replies(const std::vector<Item>& items) {
  size_t n = 0;
  for (const auto& i : items) n += i.kind == Kind::kReply;
  return n;
}

TEST(CorePassOutput, CreditRidesOnTheReplyBuffer) {
  CoreHarness h(/*held=*/true);
  h.Handshake(1, kT0);
  h.Handshake(2, kT0);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/a", "0"));
  h.Run(kT0 + 1);
  h.held().Release();
  h.Run(kT0 + 1);
  h.Take(1);
  h.Take(2);
  const uint64_t c1 = h.Credit(1);
  const uint64_t c2 = h.Credit(2);
  const size_t e0 = h.entries();
  for (int32_t x = 10; x < 13; ++x) h.Send(1, x, OpCode::kGetData, GetDataBody("/a"));
  for (int32_t x = 20; x < 22; ++x) h.Send(2, x, OpCode::kGetData, GetDataBody("/a"));
  h.Run(kT0 + 2);
  EXPECT_EQ(Replies(h.Take(1)), 3u);
  EXPECT_EQ(Replies(h.Take(2)), 2u);
  EXPECT_EQ(h.Credit(1), c1 + 3);
  EXPECT_EQ(h.Credit(2), c2 + 2);
  EXPECT_EQ(h.entries(), e0 + 2) << "one entry per connection: its replies and its credit";

  // A write waits for its commit: no reply, no credit; the reads behind it
  // wait too. Once committed, all four are answered and credited together.
  h.Send(1, 30, OpCode::kSetData, SetDataBody("/a", "1"));
  for (int32_t x = 31; x < 34; ++x) h.Send(1, x, OpCode::kGetData, GetDataBody("/a"));
  h.Run(kT0 + 3);
  EXPECT_EQ(Replies(h.Take(1)), 0u);
  EXPECT_EQ(h.Credit(1), c1 + 3);
  h.held().Release();
  const size_t e1 = h.entries();
  h.Run(kT0 + 4);
  EXPECT_EQ(Replies(h.Take(1)), 4u);
  EXPECT_EQ(h.Credit(1), c1 + 7);
  EXPECT_EQ(h.entries(), e1 + 1);

  // Over many passes the credit always matches the frames answered.
  for (int pass = 0; pass < 50; ++pass) {
    h.Send(2, 100 + pass, OpCode::kGetData, GetDataBody("/a"));
    h.Send(1, 200 + pass, OpCode::kGetData, GetDataBody("/a"));
    h.Run(kT0 + 5);
  }
  EXPECT_EQ(h.Credit(1), c1 + 57);
  EXPECT_EQ(h.Credit(2), c2 + 52);
}

TEST(CorePassOutput, ReplyBuffersAreReusedAcrossPasses) {
  // The network hands a pass's reply buffers back (written, storage kept):
  // the next pass's replies go into them instead of new allocations.
  CoreHarness h;
  h.Handshake(1, kT0);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/a", std::string(100, 'v')));
  h.Run(kT0 + 1);
  h.Take(1);
  for (int32_t x = 10; x < 14; ++x) h.Send(1, x, OpCode::kGetData, GetDataBody("/a"));
  h.Run(kT0 + 2);
  ASSERT_EQ(Replies(h.Take(1)), 4u);
  ASSERT_FALSE(h.buffers().empty());
  const char* first = h.buffers().back();
  for (int pass = 0; pass < 3; ++pass) {
    for (int32_t x = 20; x < 24; ++x) h.Send(1, x, OpCode::kGetData, GetDataBody("/a"));
    h.Run(kT0 + 3);
    auto items = h.Take(1);
    EXPECT_EQ(Replies(items), 4u);
    EXPECT_EQ(h.buffers().back(), first) << "pass " << pass << ": a new reply buffer instead of the one handed back";
  }
}

TEST(CorePassOutput, CreditOfAClosedConnectionIsStillHandedBack) {
  CoreHarness h;
  h.Handshake(1, kT0);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/a", "0"));
  h.Run(kT0 + 1);
  const uint64_t c1 = h.Credit(1);
  // A request answered and the connection gone in the same pass: its
  // frame is still handed back.
  h.Send(1, 2, OpCode::kGetData, GetDataBody("/a"));
  h.Disconnect(1);
  h.Run(kT0 + 2);
  EXPECT_EQ(h.Credit(1), c1 + 1);
}

}  // namespace
}  // namespace aviary::server::testing
