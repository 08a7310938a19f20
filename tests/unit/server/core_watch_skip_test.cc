// Core: while no watch is registered the core applies txns without
// collecting watch triggers (StateMachine::SetWatchTriggers). Watches
// registered later - even in the same pass as the write, before it is
// applied - still fire, one-shot watches still fire once, and writes with
// no watcher left answer as before.
#include <gtest/gtest.h>

#include "core_harness.h"

namespace aviary::server::testing {
namespace {

using proto::EventType;
using proto::OpCode;
using Kind = Item::Kind;

constexpr int64_t kT0 = 100000;

std::vector<Item> Events(const std::vector<Item>& items) {
  std::vector<Item> out;
  for (const auto& i : items)
    if (i.kind == Kind::kEvent) out.push_back(i);
  return out;
}

size_t Replies(const std::vector<Item>& items) {
  size_t n = 0;
  for (const auto& i : items) n += i.kind == Kind::kReply && i.hdr.err == 0;
  return n;
}

TEST(CoreWatchSkip, WatchesArmedAfterUnwatchedWritesStillFire) {
  CoreHarness h(/*held=*/true);
  h.Handshake(1, kT0);  // writer
  h.Handshake(2, kT0);  // watcher
  h.Send(1, 1, OpCode::kCreate, CreateBody("/a", "0"));
  h.Send(1, 2, OpCode::kSetData, SetDataBody("/a", "1"));  // nobody watches yet
  h.Run(kT0 + 1);
  h.held().Release();
  h.Run(kT0 + 1);
  EXPECT_EQ(Replies(h.Take(1)), 2u);
  EXPECT_TRUE(Events(h.Take(2)).empty());

  // In one pass: a write is proposed, then a watch is armed (the read runs
  // at once, before the write applies): the write's apply must fire it.
  h.Send(1, 3, OpCode::kSetData, SetDataBody("/a", "2"));
  h.Send(2, 1, OpCode::kGetData, GetDataBody("/a", true));
  h.Send(2, 2, OpCode::kExists, proto::ExistsRequest{"/b", true});
  h.Run(kT0 + 2);
  h.held().Release();
  h.Run(kT0 + 2);
  std::vector<Item> ev = Events(h.Take(2));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event().type, static_cast<int32_t>(EventType::kNodeDataChanged));
  EXPECT_EQ(ev[0].event().path, "/a");

  // The data watch is consumed; the exists watch still waits for /b.
  h.Send(1, 4, OpCode::kSetData, SetDataBody("/a", "3"));
  h.Send(1, 5, OpCode::kCreate, CreateBody("/b", ""));
  h.Send(1, 6, OpCode::kSetData, SetDataBody("/b", "x"));  // no watcher left by then
  h.Run(kT0 + 3);
  h.held().Release();
  h.Run(kT0 + 3);
  EXPECT_EQ(Replies(h.Take(1)), 4u);
  ev = Events(h.Take(2));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event().type, static_cast<int32_t>(EventType::kNodeCreated));
  EXPECT_EQ(ev[0].event().path, "/b");
  EXPECT_EQ(h.core().tree().Find("/a")->stat.version(), 3);
}

}  // namespace
}  // namespace aviary::server::testing
