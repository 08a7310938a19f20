#include <gtest/gtest.h>

#include "watch/watch_manager.h"

namespace aviary::watch {
namespace {

using proto::EventType;
using proto::WatcherType;

size_t Count(WatchManager& m, std::string_view path, EventType type) {
  std::vector<Fired> out;
  m.Trigger(path, type, &out);
  return out.size();
}

TEST(Remove, DataTypeRemovesDataWatchOnly) {
  WatchManager m;
  m.AddData("/a", 1);
  m.AddChild("/a", 1);
  std::vector<Fired> removed;
  EXPECT_TRUE(m.Remove("/a", WatcherType::kData, 1, false, &removed));
  EXPECT_TRUE(removed.empty()) << "server sends no *WatchRemoved events";
  EXPECT_FALSE(m.Remove("/a", WatcherType::kData, 1, false, nullptr));
  EXPECT_EQ(Count(m, "/a", EventType::kNodeDataChanged), 0u);
  EXPECT_EQ(Count(m, "/a", EventType::kNodeChildrenChanged), 1u);
}

TEST(Remove, ChildrenTypeRemovesChildWatchOnly) {
  WatchManager m;
  m.AddData("/a", 1);
  m.AddChild("/a", 1);
  EXPECT_TRUE(m.Remove("/a", WatcherType::kChildren, 1, false));
  EXPECT_FALSE(m.Remove("/a", WatcherType::kChildren, 1, false));
  EXPECT_EQ(Count(m, "/a", EventType::kNodeChildrenChanged), 0u);
  EXPECT_EQ(Count(m, "/a", EventType::kNodeDataChanged), 1u);
}

TEST(Remove, AnyRemovesBoth) {
  WatchManager m;
  m.AddData("/a", 1);
  m.AddChild("/a", 1);
  m.AddData("/a", 2);
  EXPECT_TRUE(m.Remove("/a", WatcherType::kAny, 1, false));
  EXPECT_EQ(m.watch_count(), 1u);
  EXPECT_FALSE(m.Remove("/a", WatcherType::kAny, 1, false));
  EXPECT_EQ(m.session_count(), 1u);
  // Any with only one kind present still succeeds.
  EXPECT_TRUE(m.Remove("/a", WatcherType::kAny, 2, false));
  EXPECT_EQ(m.path_count(), 0u);
}

TEST(Remove, NoWatcherCases) {
  WatchManager m;
  m.AddData("/a", 1);
  EXPECT_FALSE(m.Remove("/b", WatcherType::kData, 1, false));      // other path
  EXPECT_FALSE(m.Remove("/a", WatcherType::kData, 2, false));      // other session
  EXPECT_FALSE(m.Remove("/a", WatcherType::kChildren, 1, false));  // other table
  EXPECT_FALSE(m.Remove("/a/b", WatcherType::kAny, 1, false));
  EXPECT_FALSE(m.Remove("/a", static_cast<WatcherType>(6), 1, false));  // unknown type
  EXPECT_FALSE(m.Remove("/a", WatcherType::kPersistent, 1, false));
  EXPECT_FALSE(m.Remove("/a", WatcherType::kPersistentRecursive, 1, false));
  EXPECT_EQ(m.watch_count(), 1u);
}

TEST(Remove, DryRunIsCheckWatches) {
  WatchManager m;
  m.AddChild("/a", 1);
  EXPECT_TRUE(m.Remove("/a", WatcherType::kChildren, 1, true));
  EXPECT_TRUE(m.Remove("/a", WatcherType::kAny, 1, true));
  EXPECT_FALSE(m.Remove("/a", WatcherType::kData, 1, true));
  EXPECT_TRUE(m.Contains("/a", WatcherType::kChildren, 1));
  EXPECT_EQ(m.watch_count(), 1u);
  EXPECT_EQ(Count(m, "/a", EventType::kNodeChildrenChanged), 1u);
}

TEST(Remove, DataAndChildrenNameOnlyOneShotWatches) {
  // ZooKeeper 3.9: removeWatches Data/Children remove the STANDARD mode only.
  WatchManager m;
  m.AddPersistent("/a", 1, false);
  m.AddPersistent("/a", 1, true);
  EXPECT_FALSE(m.Contains("/a", WatcherType::kData, 1));
  EXPECT_FALSE(m.Contains("/a", WatcherType::kChildren, 1));
  EXPECT_FALSE(m.Remove("/a", WatcherType::kData, 1, false));
  EXPECT_FALSE(m.Remove("/a", WatcherType::kChildren, 1, false));
  m.AddData("/a", 1);
  EXPECT_TRUE(m.Remove("/a", WatcherType::kData, 1, false));
  EXPECT_EQ(Count(m, "/a", EventType::kNodeDataChanged), 1u) << "persistent stays";
  EXPECT_EQ(m.watch_count(), 2u);
}

TEST(Remove, PersistentType4RemovesPersistentFromBothTables) {
  WatchManager m;
  m.AddPersistent("/a", 1, false);
  m.AddPersistent("/a", 1, true);
  m.AddChild("/a", 1);
  EXPECT_TRUE(m.Contains("/a", WatcherType::kPersistent, 1));
  EXPECT_TRUE(m.Remove("/a", WatcherType::kPersistent, 1, false));
  EXPECT_FALSE(m.Remove("/a", WatcherType::kPersistent, 1, false));
  EXPECT_FALSE(m.Contains("/a", WatcherType::kPersistent, 1));
  // The recursive and the one-shot child watch remain.
  EXPECT_EQ(m.recursive_count(), 1u);
  EXPECT_EQ(Count(m, "/a", EventType::kNodeChildrenChanged), 1u);  // one-shot, now consumed
  EXPECT_EQ(Count(m, "/a", EventType::kNodeChildrenChanged), 0u) << "persistent child half gone";
  EXPECT_EQ(Count(m, "/a/b", EventType::kNodeCreated), 1u);
  EXPECT_EQ(m.watch_count(), 1u);
}

TEST(Remove, PersistentRecursiveType5RemovesOnlyTheRecursiveWatch) {
  WatchManager m;
  m.AddPersistent("/a", 1, true);
  EXPECT_EQ(m.watch_count(), 1u) << "recursive watches are in the data table only (3.9)";
  m.AddPersistent("/a", 1, false);
  EXPECT_FALSE(m.Remove("/a/b", WatcherType::kPersistentRecursive, 1, false)) << "only exactly the path";
  EXPECT_TRUE(m.Remove("/a", WatcherType::kPersistentRecursive, 1, true));
  EXPECT_TRUE(m.Remove("/a", WatcherType::kPersistentRecursive, 1, false));
  EXPECT_FALSE(m.Remove("/a", WatcherType::kPersistentRecursive, 1, false));
  EXPECT_EQ(m.recursive_count(), 0u);
  EXPECT_EQ(Count(m, "/a/b", EventType::kNodeCreated), 0u);
  EXPECT_EQ(Count(m, "/a", EventType::kNodeDataChanged), 1u) << "persistent stays";
}

TEST(Remove, AnyRemovesEveryModeOnThePath) {
  WatchManager m;
  m.AddPersistent("/a", 1, false);
  m.AddPersistent("/a", 1, true);
  m.AddData("/a", 1);
  m.AddChild("/a", 1);
  EXPECT_TRUE(m.Remove("/a", WatcherType::kAny, 1, false));
  EXPECT_EQ(m.watch_count(), 0u);
  EXPECT_EQ(m.recursive_count(), 0u);
  EXPECT_EQ(Count(m, "/a", EventType::kNodeDeleted), 0u);
  EXPECT_FALSE(m.Remove("/a", WatcherType::kAny, 1, false));
}

TEST(Remove, RecursiveSeesNoChildrenChangedEvenOnItsPath) {
  WatchManager m;
  m.AddPersistent("/a", 1, true);
  EXPECT_EQ(Count(m, "/a", EventType::kNodeChildrenChanged), 0u);
  EXPECT_EQ(Count(m, "/a", EventType::kNodeDeleted), 1u);
  EXPECT_EQ(Count(m, "/a/b", EventType::kNodeDeleted), 1u);
}

TEST(RemoveAll, DropsEverythingOfOneSession) {
  WatchManager m;
  m.AddData("/a", 1);
  m.AddChild("/a", 1);
  m.AddPersistent("/b", 1, false);
  m.AddPersistent("/", 1, true);
  m.AddData("/a", 2);
  m.AddPersistent("/c", 2, true);
  EXPECT_EQ(m.SessionWatchCount(1), 2u + 2u + 1u);
  EXPECT_EQ(m.PathsOf(1), (std::vector<std::string>{"/", "/a", "/b"}));
  m.RemoveAll(1);
  m.RemoveAll(1);
  m.RemoveAll(77);
  EXPECT_EQ(m.SessionWatchCount(1), 0u);
  EXPECT_TRUE(m.PathsOf(1).empty());
  EXPECT_EQ(m.session_count(), 1u);
  EXPECT_EQ(m.path_count(), 2u);
  EXPECT_EQ(m.watch_count(), 2u);
  EXPECT_EQ(m.recursive_count(), 1u);
  std::vector<Fired> out;
  m.Trigger("/a", EventType::kNodeDeleted, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].watcher, 2);
  m.RemoveAll(2);
  EXPECT_EQ(m.watch_count(), 0u);
  EXPECT_EQ(m.path_count(), 0u);
  EXPECT_EQ(m.session_count(), 0u);
  EXPECT_EQ(m.recursive_count(), 0u);
}

TEST(Limit, PerSessionBound) {
  WatchManager m(WatchLimits{/*max_watches=*/3, 0});
  EXPECT_TRUE(m.AddData("/a", 1));
  EXPECT_TRUE(m.AddPersistent("/b", 1, false));  // counts 2
  EXPECT_FALSE(m.AddChild("/c", 1));             // would be 4
  EXPECT_TRUE(m.AddData("/a", 1));               // already there: no growth
  EXPECT_TRUE(m.AddData("/b", 1));               // data table of /b already used
  EXPECT_TRUE(m.AddPersistent("/b", 1, true));   // so is it for a recursive watch
  EXPECT_FALSE(m.AddPersistent("/d", 1, true));
  EXPECT_FALSE(m.Fits(1, 1, 0));
  EXPECT_TRUE(m.AddChild("/c", 2));  // other session unaffected
  EXPECT_EQ(m.SessionWatchCount(1), 3u);
  EXPECT_EQ(m.path_count(), 3u);
  std::vector<Fired> out;
  m.Trigger("/a", EventType::kNodeDataChanged, &out);  // frees one
  EXPECT_TRUE(m.Fits(1, 1, 0));
  EXPECT_TRUE(m.AddChild("/c", 1));
}

TEST(Limit, PathBytesBoundMemoryOfLongPaths) {
  WatchManager m(WatchLimits{0, /*max_path_bytes=*/100});
  const std::string long_path = "/" + std::string(59, 'x');  // 60 bytes
  EXPECT_TRUE(m.AddData(long_path, 1));
  EXPECT_TRUE(m.AddChild(long_path, 1)) << "same slot: no new path bytes";
  EXPECT_FALSE(m.AddData(long_path + "/y", 1)) << "62 more bytes: refused";
  EXPECT_FALSE(m.AddPersistent(long_path + "/y", 1, true));
  EXPECT_TRUE(m.AddData("/" + std::string(39, 'z'), 1));  // exactly 100
  EXPECT_FALSE(m.AddData("/q", 1));
  EXPECT_TRUE(m.AddData(long_path + "/y", 2)) << "bounds are per watcher";
  EXPECT_TRUE(m.Remove(long_path, WatcherType::kAny, 1, false));
  EXPECT_TRUE(m.Fits(1, 0, 60));
  EXPECT_FALSE(m.Fits(1, 0, 61));
  EXPECT_TRUE(m.AddData(long_path, 1));
  m.RemoveAll(1);
  EXPECT_TRUE(m.Fits(1, 0, 100));
}

TEST(Dump, ZooKeeperLayoutDataTableOnly) {
  WatchManager m;
  m.AddData("/b", 0x1a);
  m.AddData("/a", 0x2b);
  m.AddData("/a", 0x1a);
  m.AddChild("/c", 0x1a);  // child table: not in the 3.8 dumps
  m.AddPersistent("/d", -1, false);
  EXPECT_EQ(m.DumpByPath(), "/a\n\t0x1a\n\t0x2b\n/b\n\t0x1a\n/d\n\t0xffffffffffffffff\n");
  EXPECT_EQ(m.DumpBySession(), "0x1a\n\t/a\n\t/b\n0x2b\n\t/a\n0xffffffffffffffff\n\t/d\n");
  EXPECT_EQ(m.DumpSummary(), "3 connections watching 3 paths\nTotal watches:4");
  WatchManager empty;
  EXPECT_EQ(empty.DumpByPath(), "");
  EXPECT_EQ(empty.DumpSummary(), "0 connections watching 0 paths\nTotal watches:0");
}

}  // namespace
}  // namespace aviary::watch
