// Core bounds against hostile clients (issue 6): reply size, auth identities,
// SASL, the auth reply's xid, requests held behind a handshake or queued in
// a session, and the output one connection may accumulate in a pass.
#include <gtest/gtest.h>

#include "core_harness.h"

namespace aviary::server::testing {
namespace {

using proto::Err;
using proto::OpCode;
using Kind = Item::Kind;

constexpr int64_t kT0 = 100000;
constexpr int32_t kMaxBuffer = 64 * 1024;

int32_t E(Err e) { return static_cast<int32_t>(e); }

CoreOptions SmallBuffer() {
  CoreOptions o = CoreHarness::DefaultOptions();
  o.max_buffer = kMaxBuffer;
  return o;
}

proto::MultiRequest GetDataTimes(const std::string& path, int n) {
  proto::MultiRequest m;
  for (int i = 0; i < n; ++i) m.ops.push_back(proto::MultiOp{OpCode::kGetData, proto::GetDataRequest{path, false}});
  return m;
}

size_t OutputBytes(const std::vector<Item>& items) {
  size_t n = 0;
  for (const Item& i : items) {
    if (const auto* d = std::get_if<proto::GetDataResponse>(&i.body)) n += d->data.size();
    if (const auto* m = std::get_if<proto::MultiResponse>(&i.body))
      for (const auto& r : m->results) n += r.data.size();
  }
  return n;
}

TEST(CoreLimits, MultiReadOfALargeNodeIsBoundedByMaxBuffer) {
  CoreHarness h(false, SmallBuffer());
  h.Handshake(1, kT0);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/big", std::string(kMaxBuffer - 100, 'x')));
  h.Run(kT0 + 1);
  h.Take(1);

  // One read of the node fits.
  h.Send(1, 2, OpCode::kMultiRead, GetDataTimes("/big", 1));
  h.Run(kT0 + 2);
  auto items = h.Take(1);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].hdr.err, 0);
  EXPECT_EQ(std::get<proto::MultiResponse>(items[0].body).results.size(), 1u);

  // 10,000 reads of it would be 640 MB: refused before it is built.
  h.Send(1, 3, OpCode::kMultiRead, GetDataTimes("/big", 10000));
  h.Run(kT0 + 3);
  items = h.Take(1);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].hdr.xid, 3);
  EXPECT_EQ(items[0].hdr.err, E(Err::kMarshallingError));
  EXPECT_EQ(OutputBytes(items), 0u);
  EXPECT_FALSE(h.IsClosed(1));
}

TEST(CoreLimits, ChildListsAreBoundedByMaxBuffer) {
  CoreHarness h(false, SmallBuffer());
  h.Handshake(1, kT0);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/p", ""));
  const std::string name(1000, 'c');
  int xid = 2;
  for (int i = 0; i < 70; ++i) {  // 70 KB of names under /p
    h.Send(1, xid++, OpCode::kCreate, CreateBody("/p/" + name + std::to_string(1000 + i), ""));
  }
  h.Send(1, xid++, OpCode::kCreate, CreateBody("/q", ""));
  h.Send(1, xid++, OpCode::kCreate, CreateBody("/q/a", ""));
  h.Run(kT0 + 1);
  h.Take(1);

  h.Send(1, 100, OpCode::kGetChildren, proto::GetChildrenRequest{"/p", false});
  h.Send(1, 101, OpCode::kGetChildren2, proto::GetChildrenRequest{"/p", false});
  h.Send(1, 102, OpCode::kGetChildren, proto::GetChildrenRequest{"/q", false});
  proto::MultiRequest m;
  m.ops.push_back(proto::MultiOp{OpCode::kGetChildren, proto::GetChildrenRequest{"/p", false}});
  h.Send(1, 103, OpCode::kMultiRead, m);
  h.Run(kT0 + 2);
  auto items = h.Take(1);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].hdr.err, E(Err::kMarshallingError));
  EXPECT_EQ(items[1].hdr.err, E(Err::kMarshallingError));
  EXPECT_EQ(items[2].hdr.err, 0);
  EXPECT_EQ(items[3].hdr.err, E(Err::kMarshallingError));
}

TEST(CoreLimits, AuthReplyEchoesTheRequestXid) {
  CoreHarness h;
  h.Handshake(1, kT0);
  h.Take(1);
  h.Send(1, 77, OpCode::kAuth, proto::AuthPacket{0, "digest", "alice:pw"});
  h.Run(kT0 + 1);
  auto items = h.Take(1);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].hdr.xid, 77);
  EXPECT_EQ(items[0].hdr.zxid, 0);
  EXPECT_EQ(items[0].hdr.err, 0);
}

TEST(CoreLimits, AuthIdentitiesAreCappedInNumber) {
  CoreHarness h;
  h.Handshake(1, kT0);
  h.Take(1);
  // The ip identity is one; kMaxAuthIds - 1 digests fit, the next fails.
  for (size_t i = 0; i + 1 < kMaxAuthIds; ++i) {
    h.Send(1, proto::xid::kAuth, OpCode::kAuth, proto::AuthPacket{0, "digest", "u" + std::to_string(i) + ":pw"});
  }
  h.Send(1, proto::xid::kAuth, OpCode::kAuth, proto::AuthPacket{0, "digest", "u0:pw"});  // again: no new id
  h.Run(kT0 + 1);
  auto items = h.Take(1);
  ASSERT_EQ(items.size(), kMaxAuthIds);
  for (const Item& i : items) EXPECT_EQ(i.hdr.err, 0);
  EXPECT_FALSE(h.IsClosed(1));

  h.Send(1, proto::xid::kAuth, OpCode::kAuth, proto::AuthPacket{0, "digest", "one-too-many:pw"});
  h.Run(kT0 + 2);
  items = h.Take(1);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].hdr.err, E(Err::kAuthFailed));
  EXPECT_EQ(items[1].kind, Kind::kClose);
}

TEST(CoreLimits, AuthIdentityIsCappedInSize) {
  CoreHarness h;
  h.Handshake(1, kT0);
  h.Take(1);
  h.Send(1, proto::xid::kAuth, OpCode::kAuth, proto::AuthPacket{0, "digest", std::string(2000, 'u') + ":pw"});
  h.Run(kT0 + 1);
  auto items = h.Take(1);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].hdr.err, E(Err::kAuthFailed));
  EXPECT_EQ(items[1].kind, Kind::kClose);
}

TEST(CoreLimits, SaslFailsAndCloses) {
  CoreHarness h;
  h.Handshake(1, kT0);
  h.Take(1);
  h.Send(1, 5, OpCode::kSasl, proto::GetSaslRequest{""});
  h.Run(kT0 + 1);
  auto items = h.Take(1);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].hdr.xid, 5);
  EXPECT_EQ(items[0].hdr.zxid, 0);
  EXPECT_EQ(items[0].hdr.err, E(Err::kAuthFailed));
  EXPECT_EQ(items[1].kind, Kind::kClose);
}

TEST(CoreLimits, HeldRequestsCountInTheBacklogAndReturnNoCreditUntilRun) {
  CoreHarness h(/*held=*/true);
  h.Open(1);
  h.Connect(1, 10000);
  for (int i = 1; i <= 50; ++i) h.Send(1, i, OpCode::kExists, proto::ExistsRequest{"/", false});
  h.Run(kT0);
  EXPECT_EQ(h.core().Backlog(), 50);
  EXPECT_EQ(h.Credit(1), 1u) << "only the handshake frame is credited";

  h.held().Release();
  h.Run(kT0 + 1);
  EXPECT_EQ(h.core().Backlog(), 0);
  EXPECT_EQ(h.Credit(1), 51u);
  auto items = h.Take(1);
  ASSERT_EQ(items.size(), 51u);
  EXPECT_EQ(items.back().hdr.xid, 50);
}

TEST(CoreLimits, HeldRequestsOfAClosedConnectionLeaveTheBacklog) {
  CoreHarness h(/*held=*/true);
  h.Open(1);
  h.Connect(1, 10000);
  for (int i = 1; i <= 20; ++i) h.Send(1, i, OpCode::kExists, proto::ExistsRequest{"/", false});
  h.Run(kT0);
  EXPECT_EQ(h.core().Backlog(), 20);
  h.Disconnect(1);
  h.Run(kT0 + 1);
  EXPECT_EQ(h.core().Backlog(), 0);
}

TEST(CoreLimits, HeldBytesAreBounded) {
  CoreOptions o = SmallBuffer();
  o.max_queued_bytes_per_conn = 1;  // the bound is then 2 frames of max_buffer
  CoreHarness h(/*held=*/true, o);
  h.Open(1);
  h.Connect(1, 10000);
  for (int i = 1; i <= 3; ++i) h.Send(1, i, OpCode::kSetData, SetDataBody("/", std::string(kMaxBuffer - 100, 'd')));
  h.Run(kT0);
  EXPECT_TRUE(h.IsClosed(1));
  EXPECT_EQ(h.core().Backlog(), 2);
  h.Disconnect(1);
  h.Run(kT0 + 1);
  EXPECT_EQ(h.core().Backlog(), 0);
}

TEST(CoreLimits, QueuedRequestsReturnCreditOnlyWhenAnswered) {
  CoreHarness h(/*held=*/true);
  h.Handshake(1, kT0);
  uint64_t base = h.Credit(1);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/a", ""));
  for (int i = 2; i <= 10; ++i) h.Send(1, i, OpCode::kGetData, GetDataBody("/a"));
  h.Run(kT0 + 1);
  EXPECT_EQ(h.Credit(1), base) << "the write and the reads behind it wait";
  EXPECT_EQ(h.core().Backlog(), 10);
  h.held().Release();
  h.Run(kT0 + 2);
  EXPECT_EQ(h.Credit(1), base + 10);
  EXPECT_EQ(h.core().Backlog(), 0);
}

TEST(CoreLimits, QueuedBytesPerConnectionAreBounded) {
  CoreOptions o = SmallBuffer();
  o.max_queued_bytes_per_conn = 1;  // the bound is then 2 frames of max_buffer
  CoreHarness h(/*held=*/true, o);
  h.Handshake(1, kT0);
  h.Handshake(2, kT0);
  h.Take(1);
  h.Take(2);
  for (int i = 1; i <= 3; ++i) h.Send(1, i, OpCode::kSetData, SetDataBody("/", std::string(kMaxBuffer - 100, 'd')));
  h.Run(kT0 + 1);
  EXPECT_TRUE(h.IsClosed(1));
  EXPECT_EQ(h.held().held(), 2u) << "the third write was never proposed";
  // Another connection is not affected.
  h.Send(2, 1, OpCode::kSetData, SetDataBody("/", "x"));
  h.held().Release();
  h.Run(kT0 + 2);
  h.held().Release();
  h.Run(kT0 + 3);
  auto items = h.Take(2);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].hdr.err, 0);
}

// Parking tests: max_output_bytes 1 MiB (parked at 512 KiB); connection 1
// creates /big (almost kMaxBuffer), then asks for it 200 times (xids 2..201)
// without reading: 12.5 MB of replies.
CoreOptions ParkingOptions() {
  CoreOptions o = SmallBuffer();
  o.max_output_bytes = 1 << 20;
  return o;
}
void CreateBigNode(CoreHarness& h) {
  h.Send(1, 1, OpCode::kCreate, CreateBody("/big", std::string(kMaxBuffer - 100, 'x')));
  h.Run(kT0 + 1);
  h.Take(1);
}
void SendBigReads(CoreHarness& h) {
  for (int i = 2; i < 202; ++i) h.Send(1, i, OpCode::kGetData, GetDataBody("/big"));
}

TEST(CoreLimits, OutputOfOneConnectionInAPassIsBounded) {
  CoreHarness h(false, ParkingOptions());
  h.Handshake(1, kT0);
  h.Handshake(2, kT0);
  CreateBigNode(h);
  h.Take(2);
  // 200 replies of 64 KB = 12.5 MB asked in one pass, without reading: the
  // connection is parked at half of max_output_bytes, not closed, and the
  // other connection is answered in the same pass.
  SendBigReads(h);
  h.Send(2, 1, OpCode::kGetData, GetDataBody("/big"));
  h.Run(kT0 + 2);
  auto items = h.Take(1);
  EXPECT_FALSE(h.IsClosed(1));
  EXPECT_GE(OutputBytes(items), static_cast<size_t>(1 << 19));
  EXPECT_LE(OutputBytes(items), static_cast<size_t>(1 << 20));
  EXPECT_EQ(h.DrainAsks(1), 1);
  EXPECT_EQ(h.Credit(1), items.size() + 2) << "held requests return no credit (the handshake and create did)";
  EXPECT_EQ(h.core().Backlog(), 0) << "a parked connection's requests do not count in globalOutstandingLimit";
  items = h.Take(2);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].hdr.err, 0);
  EXPECT_FALSE(h.IsClosed(2));
}

// Parked, a connection resumes each time the network reports its output
// drained: every reply comes, in order, a bounded amount per pass.
TEST(CoreLimits, AParkedConnectionResumesInOrderWhenItsOutputDrains) {
  CoreHarness h(false, ParkingOptions());
  h.Handshake(1, kT0);
  CreateBigNode(h);
  SendBigReads(h);
  h.Send(1, 202, OpCode::kExists, proto::ExistsRequest{"/big", false});  // a small one at the end, behind them
  h.Run(kT0 + 2);
  std::vector<int32_t> xids;
  int passes = 0;
  for (int64_t t = kT0 + 3; passes < 60; ++t, ++passes) {
    auto items = h.Take(1);
    EXPECT_LE(OutputBytes(items), static_cast<size_t>(1 << 20));
    for (const Item& i : items) xids.push_back(i.hdr.xid);
    if (!xids.empty() && xids.back() == 202) break;
    EXPECT_EQ(h.DrainAsks(1), passes + 1) << "each parked pass asks once";
    h.Drained(1);
    h.Run(t);
  }
  ASSERT_EQ(xids.size(), 201u);
  for (size_t i = 0; i < xids.size(); ++i) EXPECT_EQ(xids[i], static_cast<int32_t>(i + 2));
  EXPECT_GE(passes, 12) << "12.5 MB came at most 1 MB per pass";
  EXPECT_FALSE(h.IsClosed(1));
  EXPECT_EQ(h.Credit(1), 203u);
  // A kDrained for a connection that is not parked changes nothing.
  h.Drained(1);
  h.Run(kT0 + 100);
  EXPECT_TRUE(h.Take(1).empty());
}

// The parked requests of a connection that goes away are dropped with it.
TEST(CoreLimits, AParkedConnectionThatClosesLeavesNothingHeld) {
  CoreHarness h(false, ParkingOptions());
  h.Handshake(1, kT0);
  CreateBigNode(h);
  SendBigReads(h);
  h.Run(kT0 + 2);
  ASSERT_EQ(h.DrainAsks(1), 1);
  h.Disconnect(1);
  h.Run(kT0 + 3);
  h.Take(1);
  h.Drained(1);  // late: the connection is gone
  h.Run(kT0 + 4);
  EXPECT_TRUE(h.Take(1).empty());
  EXPECT_EQ(h.core().Backlog(), 0);
}

}  // namespace
}  // namespace aviary::server::testing
