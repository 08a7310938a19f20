// Core driven by a ManualClock (CoreOptions::clock): session expiry, TTL
// expiry and container cleanup happen when the test advances time, with no
// sleeping; ctime/mtime come from the injected wall clock.
#include <gtest/gtest.h>

#include "base/clock.h"
#include "core_harness.h"

namespace aviary::server::testing {
namespace {

using proto::Err;
using proto::OpCode;
using Kind = Item::Kind;

constexpr int32_t kEphemeral = static_cast<int32_t>(proto::CreateMode::kEphemeral);
constexpr int32_t kContainer = static_cast<int32_t>(proto::CreateMode::kContainer);
constexpr int32_t kPersistentWithTtl = static_cast<int32_t>(proto::CreateMode::kPersistentWithTtl);

struct ClockedCore {
  base::ManualClock clock;
  std::unique_ptr<CoreHarness> h;
  explicit ClockedCore(int64_t container_check_ms = 1'000'000'000) {
    CoreOptions o = CoreHarness::DefaultOptions();  // tick 2000, timeouts 4000..40000
    o.clock = &clock;
    o.extended_types_enabled = true;
    o.container_check_interval_ms = container_check_ms;
    h = std::make_unique<CoreHarness>(false, o);
  }
  int64_t now() const { return clock.SteadyMs(); }
  void Advance(int64_t ms) {
    clock.Advance(ms);
    h->Tick(now());
  }
  void Run() { h->Run(now()); }
};

bool Exists(CoreHarness& h, const std::string& path) { return h.core().tree().Find(path) != nullptr; }

TEST(CoreClock, ZnodeTimesComeFromTheInjectedWallClock) {
  ClockedCore c;
  c.h->Handshake(1, c.now());
  c.h->Send(1, 1, OpCode::kCreate, CreateBody("/t", "x"));
  c.Run();
  const tree::Node* n = c.h->core().tree().Find("/t");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->stat.ctime(), c.clock.WallMs());
  c.clock.Advance(12345);
  c.h->Send(1, 2, OpCode::kSetData, SetDataBody("/t", "y"));
  c.Run();
  EXPECT_EQ(c.h->core().tree().Find("/t")->stat.mtime(), c.clock.WallMs());
}

TEST(CoreClock, SessionExpiresWhenTheClockPassesItsTimeout) {
  ClockedCore c;
  c.h->Handshake(1, c.now(), 4000);
  c.h->Handshake(2, c.now(), 40000);
  c.h->Send(1, 1, OpCode::kCreate, CreateBody("/eph", "", kEphemeral));
  c.Run();
  c.h->Send(2, 1, OpCode::kExists, proto::ExistsRequest{"/eph", true});
  c.Run();
  ASSERT_TRUE(Exists(*c.h, "/eph"));
  c.h->Take(2);
  // Within the timeout (expiry is at the next tick boundary after 4000 ms).
  c.Advance(3000);
  EXPECT_TRUE(Exists(*c.h, "/eph"));
  EXPECT_FALSE(c.h->IsClosed(1));
  c.Advance(3100);  // past 4000 rounded up to the 2000 ms tick
  EXPECT_FALSE(Exists(*c.h, "/eph"));
  EXPECT_TRUE(c.h->IsClosed(1));
  // The watcher on the other session saw the ephemeral go.
  auto items = c.h->Take(2);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, Kind::kEvent);
  EXPECT_EQ(items[0].event().type, static_cast<int32_t>(proto::EventType::kNodeDeleted));
  EXPECT_EQ(items[0].event().path, "/eph");
  // Session 2 is still alive: its own traffic kept it.
  EXPECT_FALSE(c.h->IsClosed(2));
}

TEST(CoreClock, TouchedSessionDoesNotExpire) {
  ClockedCore c;
  c.h->Handshake(1, c.now(), 4000);
  for (int i = 0; i < 10; ++i) {
    c.Advance(2000);
    c.h->Send(1, -2, OpCode::kPing, proto::Empty{});
    c.Run();
  }
  EXPECT_FALSE(c.h->IsClosed(1));
  c.Advance(8000);
  EXPECT_TRUE(c.h->IsClosed(1));
}

TEST(CoreClock, TtlNodeIsDeletedOnceItsTtlPassed) {
  ClockedCore c(/*container_check_ms=*/1000);
  c.h->Handshake(1, c.now(), 40000);
  proto::CreateRequest r = CreateBody("/ttl", "x", kPersistentWithTtl);
  r.ttl = 5000;
  c.h->Send(1, 1, OpCode::kCreateTtl, r);
  c.Run();
  auto items = c.h->Take(1);
  ASSERT_EQ(items.back().hdr.err, 0);
  ASSERT_TRUE(Exists(*c.h, "/ttl"));
  c.Advance(3000);
  EXPECT_TRUE(Exists(*c.h, "/ttl"));
  c.Advance(3000);  // mtime + 5000 < now
  EXPECT_FALSE(Exists(*c.h, "/ttl"));
}

TEST(CoreClock, EmptiedContainerIsDeletedAtTheNextSweep) {
  ClockedCore c(/*container_check_ms=*/60000);
  c.h->Handshake(1, c.now(), 40000);
  c.h->Send(1, 1, OpCode::kCreateContainer, CreateBody("/box", "", kContainer));
  c.h->Send(1, 2, OpCode::kCreate, CreateBody("/box/a", ""));
  c.h->Send(1, 3, OpCode::kDelete, proto::DeleteRequest{"/box/a", -1});
  c.Run();
  ASSERT_TRUE(Exists(*c.h, "/box"));
  c.Advance(30000);
  EXPECT_TRUE(Exists(*c.h, "/box"));  // no sweep yet
  c.h->Send(1, -2, OpCode::kPing, proto::Empty{});
  c.Run();
  c.Advance(31000);
  EXPECT_FALSE(Exists(*c.h, "/box"));
  EXPECT_FALSE(c.h->IsClosed(1));
}

}  // namespace
}  // namespace aviary::server::testing
