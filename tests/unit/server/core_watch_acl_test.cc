// Core: watch events respect READ on the node (CVE-2024-23944), watch
// bounds answer QUOTAEXCEEDED instead of dropping the watch, removeWatches
// types 4/5 (ZooKeeper 3.9), and a client-sent deleteContainer deletes
// nothing.
#include <gtest/gtest.h>

#include "core_harness.h"
#include "txn/acl.h"

namespace aviary::server::testing {
namespace {

using proto::Err;
using proto::EventType;
using proto::OpCode;
using Kind = Item::Kind;

constexpr int64_t kT0 = 100000;
constexpr int32_t kRecursive = static_cast<int32_t>(proto::AddWatchMode::kPersistentRecursive);

proto::AclList Protected() { return {proto::Acl{proto::perms::kAll, proto::Id{"digest", txn::DigestId("u", "p")}}}; }

void Auth(CoreHarness& h, net::ConnId conn) {
  h.Send(conn, proto::xid::kAuth, OpCode::kAuth, proto::AuthPacket{0, "digest", "u:p"});
}

std::vector<std::string> EventPaths(const std::vector<Item>& items) {
  std::vector<std::string> out;
  for (const auto& i : items)
    if (i.kind == Kind::kEvent) out.push_back(i.event().path);
  return out;
}

int32_t ReplyErr(const std::vector<Item>& items, int32_t xid) {
  for (const auto& i : items)
    if (i.kind == Kind::kReply && i.hdr.xid == xid) return i.hdr.err;
  ADD_FAILURE() << "no reply to xid " << xid;
  return 1;
}

TEST(CoreWatchAcl, EventsOnlyReachWatchersThatMayRead) {
  CoreHarness h;
  h.Handshake(1, kT0);  // owner, authenticated
  h.Handshake(2, kT0);  // anonymous spy
  h.Handshake(3, kT0);  // authenticated watcher
  Auth(h, 1);
  Auth(h, 3);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/s", "", 0, Protected()));
  h.Send(2, 1, OpCode::kAddWatch, proto::AddWatchRequest{"/", kRecursive});
  h.Send(2, 2, OpCode::kExists, proto::ExistsRequest{"/s/y", true});
  h.Send(3, 1, OpCode::kAddWatch, proto::AddWatchRequest{"/", kRecursive});
  h.Run(kT0 + 1);
  h.Take(2);
  h.Take(3);
  h.Send(1, 2, OpCode::kCreate, CreateBody("/s/x", "", 0, Protected()));
  h.Send(1, 3, OpCode::kSetData, SetDataBody("/s/x", "v"));
  h.Send(1, 4, OpCode::kDelete, proto::DeleteRequest{"/s/x", -1});
  h.Send(1, 5, OpCode::kCreate, CreateBody("/s/y", "", 0, Protected()));  // consumes the exists watch
  h.Send(1, 6, OpCode::kCreate, CreateBody("/s/open", ""));               // world-readable child
  h.Run(kT0 + 2);
  EXPECT_EQ(EventPaths(h.Take(2)), (std::vector<std::string>{"/s/open"}));
  EXPECT_EQ(EventPaths(h.Take(3)), (std::vector<std::string>{"/s/x", "/s/x", "/s/x", "/s/y", "/s/open"}));
  // The exists watch on /s/y was consumed although its event was withheld.
  h.Send(1, 7, OpCode::kDelete, proto::DeleteRequest{"/s/y", -1});
  h.Run(kT0 + 3);
  EXPECT_TRUE(EventPaths(h.Take(2)).empty());
}

TEST(CoreWatchAcl, AuthAddedAfterRegistrationCountsAtFireTime) {
  CoreHarness h;
  h.Handshake(1, kT0);
  h.Handshake(2, kT0);
  Auth(h, 1);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/s", "", 0, Protected()));
  h.Send(2, 1, OpCode::kAddWatch, proto::AddWatchRequest{"/s", kRecursive});
  h.Run(kT0 + 1);
  Auth(h, 2);
  h.Send(1, 2, OpCode::kSetData, SetDataBody("/s", "v"));
  h.Run(kT0 + 2);
  EXPECT_EQ(EventPaths(h.Take(2)), (std::vector<std::string>{"/s"}));
}

TEST(CoreWatchAcl, SetWatchesCatchUpEventsRespectRead) {
  CoreHarness h;
  h.Handshake(1, kT0);
  h.Handshake(2, kT0);
  Auth(h, 1);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/s", "", 0, Protected()));
  h.Send(1, 2, OpCode::kCreate, CreateBody("/o", ""));
  h.Run(kT0 + 1);
  h.Take(2);
  proto::SetWatches2 sw;
  sw.relativeZxid = 0;
  sw.dataWatches = {"/s", "/o", "/gone"};
  sw.existWatches = {"/s"};
  h.Send(2, proto::xid::kSetWatches, OpCode::kSetWatches2, sw);
  h.Run(kT0 + 2);
  auto items = h.Take(2);
  EXPECT_EQ(EventPaths(items), (std::vector<std::string>{"/o", "/gone"}));
  EXPECT_EQ(ReplyErr(items, proto::xid::kSetWatches), 0);
}

TEST(CoreWatchAcl, ExistsOnUnreadableNodeIsNoAuthAndArmsNothing) {
  CoreHarness h;
  h.Handshake(1, kT0);
  h.Handshake(2, kT0);
  Auth(h, 1);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/s", "", 0, Protected()));
  h.Run(kT0 + 1);
  h.Send(2, 1, OpCode::kExists, proto::ExistsRequest{"/s", true});
  h.Send(2, 2, OpCode::kExists, proto::ExistsRequest{"/s/none", false});
  h.Run(kT0 + 1);
  auto items = h.Take(2);
  EXPECT_EQ(ReplyErr(items, 1), static_cast<int32_t>(Err::kNoAuth));
  EXPECT_EQ(ReplyErr(items, 2), static_cast<int32_t>(Err::kNoNode));
  Auth(h, 2);  // even once it may read, no watch was armed
  h.Send(1, 2, OpCode::kSetData, SetDataBody("/s", "v"));
  h.Run(kT0 + 2);
  EXPECT_TRUE(EventPaths(h.Take(2)).empty());
}

TEST(CoreWatchLimit, RefusedWithQuotaExceededNeverDropped) {
  CoreOptions o = CoreHarness::DefaultOptions();
  o.max_watches_per_session = 3;
  o.max_watch_bytes_per_session = 1000;
  CoreHarness h(false, o);
  h.Handshake(1, kT0);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/a", "x"));
  h.Send(1, 2, OpCode::kExists, proto::ExistsRequest{"/n1", true});
  h.Send(1, 3, OpCode::kAddWatch, proto::AddWatchRequest{"/p", 0});  // 2 entries: full
  h.Send(1, 4, OpCode::kGetData, GetDataBody("/a", true));           // refused, no data
  h.Send(1, 5, OpCode::kGetData, GetDataBody("/a", false));          // plain read fine
  h.Send(1, 6, OpCode::kAddWatch, proto::AddWatchRequest{"/q", kRecursive});
  h.Send(1, 7, OpCode::kExists, proto::ExistsRequest{"/n1", true});           // already held
  h.Send(1, 8, OpCode::kGetChildren, proto::GetChildrenRequest{"/p", true});  // /p child table used
  proto::SetWatches2 sw;
  sw.relativeZxid = 1000;
  sw.existWatches = {"/n2"};
  h.Send(1, proto::xid::kSetWatches, OpCode::kSetWatches2, sw);
  h.Run(kT0 + 1);
  auto items = h.Take(1);
  const auto quota = static_cast<int32_t>(Err::kQuotaExceeded);
  EXPECT_EQ(ReplyErr(items, 2), static_cast<int32_t>(Err::kNoNode));
  EXPECT_EQ(ReplyErr(items, 3), 0);
  EXPECT_EQ(ReplyErr(items, 4), quota);
  for (const auto& i : items) {
    if (i.kind == Kind::kReply && i.hdr.xid == 4) {
      EXPECT_TRUE(std::holds_alternative<proto::Empty>(i.body));
    }
  }
  EXPECT_EQ(ReplyErr(items, 5), 0);
  EXPECT_EQ(ReplyErr(items, 6), quota);
  EXPECT_EQ(ReplyErr(items, 7), static_cast<int32_t>(Err::kNoNode));
  EXPECT_EQ(ReplyErr(items, 8), static_cast<int32_t>(Err::kNoNode));  // /p does not exist
  EXPECT_EQ(ReplyErr(items, proto::xid::kSetWatches), quota);
  // The bytes bound: a watch on a long path is refused too.
  h.Send(1, 9, OpCode::kRemoveWatches, proto::RemoveWatchesRequest{"/p", 4});
  h.Send(1, 10, OpCode::kExists, proto::ExistsRequest{"/" + std::string(1000, 'x'), true});
  h.Send(1, 11, OpCode::kExists, proto::ExistsRequest{"/" + std::string(900, 'x'), true});
  h.Run(kT0 + 2);
  items = h.Take(1);
  EXPECT_EQ(ReplyErr(items, 9), 0);
  EXPECT_EQ(ReplyErr(items, 10), quota);
  EXPECT_EQ(ReplyErr(items, 11), static_cast<int32_t>(Err::kNoNode));
}

TEST(CoreRemoveWatches, PersistentTypesOfZooKeeper39) {
  CoreHarness h;
  h.Handshake(1, kT0);
  h.Send(1, 1, OpCode::kAddWatch, proto::AddWatchRequest{"/r", 0});
  h.Send(1, 2, OpCode::kAddWatch, proto::AddWatchRequest{"/r", kRecursive});
  h.Send(1, 3, OpCode::kCheckWatches, proto::RemoveWatchesRequest{"/r", 2});  // data: one-shot only
  h.Send(1, 4, OpCode::kRemoveWatches, proto::RemoveWatchesRequest{"/r", 5});
  h.Send(1, 5, OpCode::kRemoveWatches, proto::RemoveWatchesRequest{"/r", 5});
  h.Send(1, 6, OpCode::kCheckWatches, proto::RemoveWatchesRequest{"/r", 4});
  h.Send(1, 7, OpCode::kRemoveWatches, proto::RemoveWatchesRequest{"/r", 4});
  h.Send(1, 8, OpCode::kRemoveWatches, proto::RemoveWatchesRequest{"/r", 3});
  h.Send(1, 9, OpCode::kRemoveWatches, proto::RemoveWatchesRequest{"/r", 6});
  h.Run(kT0 + 1);
  auto items = h.Take(1);
  const auto none = static_cast<int32_t>(Err::kNoWatcher);
  EXPECT_EQ(ReplyErr(items, 3), none);
  EXPECT_EQ(ReplyErr(items, 4), 0);
  EXPECT_EQ(ReplyErr(items, 5), none);
  EXPECT_EQ(ReplyErr(items, 6), 0);
  EXPECT_EQ(ReplyErr(items, 7), 0);
  EXPECT_EQ(ReplyErr(items, 8), none);
  EXPECT_EQ(ReplyErr(items, 9), static_cast<int32_t>(Err::kMarshallingError));
}

TEST(CoreInternalOps, ClientDeleteContainerDeletesNothing) {
  CoreHarness h;
  h.Handshake(1, kT0);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/c", "", static_cast<int32_t>(proto::CreateMode::kContainer)));
  h.Send(1, 2, OpCode::kCreate, CreateBody("/p", ""));
  h.Send(1, 3, OpCode::kDeleteContainer, proto::DeleteRequest{"/c", -1});
  h.Send(1, 4, OpCode::kDeleteContainer, proto::DeleteRequest{"/p", -1});
  h.Run(kT0 + 1);
  auto items = h.Take(1);
  EXPECT_EQ(ReplyErr(items, 3), static_cast<int32_t>(Err::kBadArguments));
  EXPECT_EQ(ReplyErr(items, 4), static_cast<int32_t>(Err::kBadArguments));
  EXPECT_FALSE(h.IsClosed(1));
  EXPECT_NE(h.core().tree().Find("/c"), nullptr);
  EXPECT_NE(h.core().tree().Find("/p"), nullptr);
}

}  // namespace
}  // namespace aviary::server::testing
