#include <gtest/gtest.h>

#include "watch/watch_manager.h"

namespace aviary::watch {
namespace {

using proto::EventType;

std::vector<Fired> Fire(WatchManager& m, std::string_view path, EventType type) {
  std::vector<Fired> out;
  m.Trigger(path, type, &out);
  return out;
}

std::vector<int64_t> Who(const std::vector<Fired>& v) {
  std::vector<int64_t> out;
  for (const auto& f : v) out.push_back(f.watcher);
  return out;
}

TEST(Trigger, DataWatchFiresOnCreatedChangedDeletedOnce) {
  for (EventType t : {EventType::kNodeCreated, EventType::kNodeDataChanged, EventType::kNodeDeleted}) {
    WatchManager m;
    ASSERT_TRUE(m.AddData("/a", 1));
    auto ev = Fire(m, "/a", t);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0], (Fired{1, t, "/a"}));
    EXPECT_TRUE(Fire(m, "/a", t).empty()) << "one-shot";
    EXPECT_EQ(m.watch_count(), 0u);
    EXPECT_EQ(m.path_count(), 0u);
    EXPECT_EQ(m.session_count(), 0u);
  }
}

// MayFireOnData (the core's early-reply check) is true whenever a data
// change of the path fires something: never false where Trigger fires.
TEST(Trigger, MayFireOnDataCoversWhatADataChangeFires) {
  WatchManager m;
  EXPECT_FALSE(m.MayFireOnData("/a"));
  m.AddChild("/x", 1);  // a child watch elsewhere
  EXPECT_FALSE(m.MayFireOnData("/a"));
  m.AddData("/a", 2);
  EXPECT_TRUE(m.MayFireOnData("/a"));
  EXPECT_FALSE(m.MayFireOnData("/a/b"));
  m.AddPersistent("/p", 3, /*recursive=*/true);
  EXPECT_TRUE(m.MayFireOnData("/p"));
  EXPECT_TRUE(m.MayFireOnData("/p/q/r"));
  EXPECT_FALSE(m.MayFireOnData("/pq"));
  EXPECT_FALSE(m.MayFireOnData("/a/b"));
  m.AddPersistent("/", 4, /*recursive=*/true);
  EXPECT_TRUE(m.MayFireOnData("/a/b"));
  // Checked against Trigger over a small tree of watches.
  WatchManager w;
  w.AddData("/d", 1);
  w.AddPersistent("/r", 2, true);
  w.AddPersistent("/s", 3, false);
  w.AddChild("/c", 4);
  for (std::string_view path : {"/d", "/d/e", "/r", "/r/x/y", "/s", "/s/t", "/c", "/c/k", "/z"}) {
    WatchManager copy = w;
    const bool fires = !Fire(copy, path, EventType::kNodeDataChanged).empty();
    if (fires) {
      EXPECT_TRUE(w.MayFireOnData(path)) << path;
    }
  }
  EXPECT_FALSE(w.MayFireOnData("/z"));
  EXPECT_FALSE(w.MayFireOnData("/d/e"));
}

TEST(Trigger, DataWatchIgnoresChildrenChanged) {
  WatchManager m;
  m.AddData("/a", 1);
  EXPECT_TRUE(Fire(m, "/a", EventType::kNodeChildrenChanged).empty());
  EXPECT_EQ(m.watch_count(), 1u);  // still armed
  EXPECT_EQ(Who(Fire(m, "/a", EventType::kNodeDataChanged)), std::vector<int64_t>{1});
}

TEST(Trigger, ChildWatchFiresOnChildrenChangedAndDeleted) {
  WatchManager m;
  m.AddChild("/a", 1);
  EXPECT_TRUE(Fire(m, "/a", EventType::kNodeCreated).empty());
  EXPECT_TRUE(Fire(m, "/a", EventType::kNodeDataChanged).empty());
  EXPECT_EQ(Fire(m, "/a", EventType::kNodeChildrenChanged),
            (std::vector<Fired>{{1, EventType::kNodeChildrenChanged, "/a"}}));
  EXPECT_TRUE(Fire(m, "/a", EventType::kNodeChildrenChanged).empty());
  m.AddChild("/a", 1);
  EXPECT_EQ(Fire(m, "/a", EventType::kNodeDeleted), (std::vector<Fired>{{1, EventType::kNodeDeleted, "/a"}}));
  EXPECT_EQ(m.watch_count(), 0u);
}

TEST(Trigger, OtherPathsAndTypesFireNothing) {
  WatchManager m;
  m.AddData("/a", 1);
  m.AddChild("/a", 1);
  m.AddPersistent("/a", 2, false);
  m.AddPersistent("/", 3, true);
  EXPECT_TRUE(Fire(m, "/ab", EventType::kNodeChildrenChanged).empty());
  EXPECT_TRUE(Fire(m, "/a", EventType::kNone).empty());
  EXPECT_TRUE(Fire(m, "/a", EventType::kDataWatchRemoved).empty());
  EXPECT_TRUE(Fire(m, "/a", EventType::kPersistentWatchRemoved).empty());
  EXPECT_EQ(m.watch_count(), 2u + 2u + 1u);  // a recursive watch is in the data table only
}

TEST(Trigger, DeleteFiresDataAndChildOnceAndConsumesBoth) {
  WatchManager m;
  m.AddData("/a", 1);
  m.AddChild("/a", 1);
  m.AddChild("/a", 2);
  auto ev = Fire(m, "/a", EventType::kNodeDeleted);
  EXPECT_EQ(Who(ev), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(m.watch_count(), 0u);
}

TEST(Trigger, DataChangeLeavesChildWatchOfSameSession) {
  WatchManager m;
  m.AddData("/a", 1);
  m.AddChild("/a", 1);
  EXPECT_EQ(Who(Fire(m, "/a", EventType::kNodeDataChanged)), std::vector<int64_t>{1});
  EXPECT_EQ(m.watch_count(), 1u);
  EXPECT_EQ(Who(Fire(m, "/a", EventType::kNodeChildrenChanged)), std::vector<int64_t>{1});
  EXPECT_EQ(m.watch_count(), 0u);
}

TEST(Trigger, PersistentGetsAllFourAndStays) {
  WatchManager m;
  ASSERT_TRUE(m.AddPersistent("/a", 1, false));
  EXPECT_EQ(m.watch_count(), 2u);  // in both tables, as ZooKeeper counts it
  for (EventType t : {EventType::kNodeCreated, EventType::kNodeDataChanged, EventType::kNodeChildrenChanged,
                      EventType::kNodeDeleted, EventType::kNodeCreated}) {
    EXPECT_EQ(Fire(m, "/a", t), (std::vector<Fired>{{1, t, "/a"}}));
  }
  EXPECT_EQ(m.watch_count(), 2u);
  EXPECT_TRUE(Fire(m, "/a/b", EventType::kNodeCreated).empty()) << "not recursive";
}

TEST(Trigger, PersistentAndOneShotDedupeAndOneShotConsumed) {
  WatchManager m;
  m.AddPersistent("/a", 1, false);
  m.AddData("/a", 1);
  m.AddChild("/a", 1);
  EXPECT_EQ(m.watch_count(), 2u);
  EXPECT_EQ(Fire(m, "/a", EventType::kNodeDeleted).size(), 1u);
  // The one-shot ones are gone, the persistent one stays.
  EXPECT_FALSE(m.Contains("/a", proto::WatcherType::kData, 1));
  EXPECT_TRUE(m.Contains("/a", proto::WatcherType::kPersistent, 1));
  EXPECT_EQ(Fire(m, "/a", EventType::kNodeDataChanged).size(), 1u);
}

TEST(Trigger, RecursiveOnAncestorsButNotChildrenChanged) {
  WatchManager m;
  ASSERT_TRUE(m.AddPersistent("/a", 1, true));
  EXPECT_EQ(m.recursive_count(), 1u);
  for (std::string_view p : {"/a", "/a/b", "/a/b/c/d"}) {
    for (EventType t : {EventType::kNodeCreated, EventType::kNodeDataChanged, EventType::kNodeDeleted}) {
      EXPECT_EQ(Fire(m, p, t), (std::vector<Fired>{{1, t, std::string(p)}})) << p;
    }
    EXPECT_TRUE(Fire(m, p, EventType::kNodeChildrenChanged).empty()) << p;
  }
  EXPECT_TRUE(Fire(m, "/ab", EventType::kNodeCreated).empty()) << "sibling with common prefix";
  EXPECT_TRUE(Fire(m, "/", EventType::kNodeDataChanged).empty()) << "parent";
  EXPECT_TRUE(Fire(m, "/b/a", EventType::kNodeCreated).empty());
  EXPECT_EQ(m.recursive_count(), 1u);
}

TEST(Trigger, RecursiveOnRootSeesEverything) {
  WatchManager m;
  m.AddPersistent("/", 9, true);
  EXPECT_EQ(Who(Fire(m, "/", EventType::kNodeDataChanged)), std::vector<int64_t>{9});
  EXPECT_EQ(Who(Fire(m, "/x", EventType::kNodeCreated)), std::vector<int64_t>{9});
  EXPECT_EQ(Who(Fire(m, "/x/y/z", EventType::kNodeDeleted)), std::vector<int64_t>{9});
  EXPECT_TRUE(Fire(m, "/x", EventType::kNodeChildrenChanged).empty());
  EXPECT_TRUE(Fire(m, "/", EventType::kNodeChildrenChanged).empty());
}

TEST(Trigger, OneEventPerWatcherAcrossTablesAndAncestors) {
  WatchManager m;
  m.AddPersistent("/", 1, true);
  m.AddPersistent("/a", 1, true);
  m.AddPersistent("/a/b", 1, false);
  m.AddData("/a/b", 1);
  m.AddChild("/a/b", 1);
  m.AddPersistent("/a", 2, true);
  auto ev = Fire(m, "/a/b", EventType::kNodeDeleted);
  EXPECT_EQ(Who(ev), (std::vector<int64_t>{1, 2}));
  for (const auto& f : ev) {
    EXPECT_EQ(f.path, "/a/b");
    EXPECT_EQ(f.type, EventType::kNodeDeleted);
  }
  // Only the one-shot watches were consumed.
  EXPECT_FALSE(m.Contains("/a/b", proto::WatcherType::kData, 2));
  EXPECT_EQ(m.SessionWatchCount(1), 1u + 1u + 2u);
}

TEST(Trigger, ChildrenChangedOnParentReachesPersistentButNotRecursive) {
  WatchManager m;
  m.AddPersistent("/p", 1, false);
  m.AddPersistent("/p", 2, true);
  m.AddChild("/p", 3);
  m.AddData("/p", 4);
  EXPECT_EQ(Who(Fire(m, "/p", EventType::kNodeChildrenChanged)), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(Who(Fire(m, "/p", EventType::kNodeDataChanged)), (std::vector<int64_t>{1, 2, 4}));
}

TEST(Trigger, OrderIsRegistrationOrder) {
  WatchManager m;
  for (int64_t w : {50, 10, 40, 20, 30}) m.AddData("/n", w);
  EXPECT_EQ(Who(Fire(m, "/n", EventType::kNodeDataChanged)), (std::vector<int64_t>{50, 10, 40, 20, 30}));
}

TEST(Trigger, AddIsIdempotent) {
  WatchManager m;
  m.AddData("/a", 1);
  m.AddData("/a", 1);
  EXPECT_EQ(m.watch_count(), 1u);
  EXPECT_EQ(Fire(m, "/a", EventType::kNodeDataChanged).size(), 1u);
}

TEST(Trigger, AppendsToOutput) {
  WatchManager m;
  m.AddData("/a", 1);
  std::vector<Fired> out{{7, EventType::kNone, "x"}};
  m.Trigger("/a", EventType::kNodeCreated, &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].watcher, 1);
}

}  // namespace
}  // namespace aviary::watch
