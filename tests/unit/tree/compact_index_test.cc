// This round's structures under stress: the 64-bit hash-tagged PathIndex
// (full-hash collisions, growth, backward-shift deletes, reinserts), the
// BytesArena and arena-owned NodeBytes, huge child lists, LoadNode's order
// rules and DataTree::Reserve, the vector-backed AclCache.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "colliding_names.h"
#include "tree/data_tree.h"

namespace aviary::tree {
namespace {

proto::AclList Open() { return {proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}}}; }
proto::AclList ReadOnly() { return {proto::Acl{proto::perms::kRead, proto::Id{"world", "anyone"}}}; }

proto::Err Create(DataTree& t, const std::string& path, const std::string& data = "d") {
  return t.CreateNode(path, data, Open(), NodeKind::kPersistent, 0, 0, -1, 1, 1);
}

using test_util::CollidingNames;

TEST(PathIndex, FullHashCollisionsAreToldApartByPath) {
  DataTree t;
  ASSERT_EQ(Create(t, "/p"), proto::Err::kOk);
  const auto [a, b] = CollidingNames("/p");
  ASSERT_EQ(PathHash("/p/" + a), PathHash("/p/" + b));
  ASSERT_EQ(Create(t, "/p/" + a, "A"), proto::Err::kOk);
  EXPECT_EQ(t.Find("/p/" + b), nullptr);  // same hash, other path: absent
  ASSERT_EQ(Create(t, "/p/" + b, "B"), proto::Err::kOk);
  EXPECT_EQ(t.Find("/p/" + a)->data, "A");
  EXPECT_EQ(t.Find("/p/" + b)->data, "B");
  ASSERT_EQ(t.DeleteNode("/p/" + a, 2), proto::Err::kOk);
  EXPECT_EQ(t.Find("/p/" + a), nullptr);
  EXPECT_EQ(t.Find("/p/" + b)->data, "B");
  ASSERT_EQ(Create(t, "/p/" + a, "A2"), proto::Err::kOk);  // reinsert
  EXPECT_EQ(t.Find("/p/" + a)->data, "A2");
  ASSERT_EQ(t.DeleteNode("/p/" + b, 3), proto::Err::kOk);
  EXPECT_EQ(t.Find("/p/" + a)->data, "A2");
  EXPECT_EQ(t.Find("/p/" + b), nullptr);
}

TEST(PathIndex, EraseRemovesOnlyTheExactEntry) {
  PathIndex idx;
  for (uint32_t id = 1; id <= 100; ++id) idx.Insert(7, id);  // one hash, a long run
  for (uint32_t id = 1000; id < 1100; ++id) idx.Insert(id * 2654435761u, id);
  EXPECT_EQ(idx.size(), 200u);
  idx.Erase(7, 5000);  // absent id with a present hash: nothing happens
  idx.Erase(8, 5);     // present id with another hash: nothing happens
  EXPECT_EQ(idx.size(), 200u);
  for (uint32_t id = 1; id <= 100; id += 2) idx.Erase(7, id);
  EXPECT_EQ(idx.size(), 150u);
  EXPECT_LE(idx.size() * 5, idx.slot_count() * 4);
}

TEST(PathIndex, GrowthDeletesAndReinsertsKeepEveryPathFindable) {
  DataTree t;
  std::vector<std::string> paths;
  for (int p = 0; p < 50; ++p) {
    const std::string parent = "/g" + std::to_string(p);
    ASSERT_EQ(Create(t, parent), proto::Err::kOk);
    for (int c = 0; c < 600; ++c) {
      paths.push_back(parent + "/n" + std::to_string(c));
      ASSERT_EQ(Create(t, paths.back(), paths.back()), proto::Err::kOk);
    }
  }
  std::mt19937 rng(7);
  std::shuffle(paths.begin(), paths.end(), rng);
  const size_t half = paths.size() / 2;
  for (size_t i = 0; i < half; ++i) ASSERT_EQ(t.DeleteNode(paths[i], 2), proto::Err::kOk);
  for (size_t i = 0; i < paths.size(); ++i) {
    const Node* n = t.Find(paths[i]);
    if (i < half) {
      EXPECT_EQ(n, nullptr) << paths[i];
    } else {
      ASSERT_NE(n, nullptr) << paths[i];
      EXPECT_EQ(n->data, paths[i]);
    }
  }
  for (size_t i = 0; i < half; ++i) ASSERT_EQ(Create(t, paths[i], "again"), proto::Err::kOk);
  for (size_t i = 0; i < paths.size(); ++i) {
    ASSERT_NE(t.Find(paths[i]), nullptr) << paths[i];
    EXPECT_EQ(t.Find(paths[i])->data, i < half ? "again" : paths[i]);
  }
  EXPECT_EQ(t.NodeCount(), 4u + 50u + paths.size());
}

TEST(BytesArena, RecordsAreReusedBySizeAndLargeOnesRefused) {
  BytesArena a;
  EXPECT_EQ(a.Alloc(BytesArena::kMaxRecordBytes + 1), nullptr);
  char* p = a.Alloc(114);
  ASSERT_NE(p, nullptr);
  char* q = a.Alloc(114);  // exact sizes, no rounding: the next record
  EXPECT_EQ(q, p + 114);
  char* tiny = a.Alloc(3);  // at least kMinRecordBytes (the free list's link)
  EXPECT_EQ(a.Alloc(1), tiny + BytesArena::kMinRecordBytes);
  a.Free(p, 114);
  EXPECT_NE(a.Alloc(113), p);  // another size: not that record
  EXPECT_EQ(a.Alloc(114), p);  // the same size: reused
  EXPECT_NE(a.Alloc(114), p);
  // Chunk rollover: many records, all distinct and writable.
  std::vector<char*> many;
  for (int i = 0; i < 30000; ++i) {
    many.push_back(a.Alloc(8 + static_cast<size_t>(i % 300)));
    std::memset(many.back(), i & 0xff, 8 + static_cast<size_t>(i % 300));
  }
  for (int i = 0; i < 30000; ++i) EXPECT_EQ(static_cast<unsigned char>(many[i][0]), i & 0xff);
  EXPECT_GT(a.capacity_bytes(), BytesArena::kChunkBytes);
}

// The header is two varints: 2 bytes for short names and data, more for
// long ones; every length decodes back and the block is exactly its bytes.
TEST(BytesArena, NodeBytesHeaderRoundTripsEveryLengthClass) {
  EXPECT_EQ(NodeBytes::BlockBytesFor(12, 100), 2u + 12u + 100u);
  EXPECT_EQ(NodeBytes::BlockBytesFor(0, 0), 0u);
  EXPECT_EQ(NodeBytes::BlockBytesFor(64, 128), 2u + 2u + 64u + 128u);
  BytesArena arena;
  EXPECT_EQ(NodeBytes::BlockBytesFor(31, 127), 2u + 31u + 127u);
  EXPECT_EQ(NodeBytes::BlockBytesFor(32, 127), 3u + 32u + 127u);
  EXPECT_EQ(NodeBytes::BlockBytesFor(12, 100, true), 2u + 8u + 12u + 100u);
  EXPECT_EQ(NodeBytes::BlockBytesFor(0, 0, true), 2u + 8u);
  for (size_t name : {0u, 1u, 31u, 32u, 63u, 64u, 200u, 9000u}) {
    for (size_t data : {0u, 1u, 127u, 128u, 1000u, 20000u, 3u << 20}) {
      if (name == 0 && data == 0) continue;
      const std::string n(name, 'n'), d(data, 'd');
      NodeBytes in, out;
      in.SetIn(arena, n, d);
      out.Set(n, d);
      for (NodeBytes* b : {&in, &out}) {
        EXPECT_EQ(b->name(), n) << name << " " << data;
        EXPECT_EQ(b->view(), d) << name << " " << data;
        EXPECT_EQ(b->size(), data);
      }
      EXPECT_EQ(in.in_arena(), NodeBytes::BlockBytesFor(name, data) <= BytesArena::kMaxRecordBytes);
      EXPECT_FALSE(out.in_arena());
      in.ReleaseIn(arena);
    }
  }
}

TEST(BytesArena, NodeBytesInAnArenaStayWithTheirTree) {
  BytesArena arena;
  NodeBytes b;
  b.SetIn(arena, "name", "small");
  EXPECT_TRUE(b.in_arena());
  EXPECT_EQ(b.name(), "name");
  EXPECT_EQ(b, "small");
  NodeBytes moved(std::move(b));  // an arena record is copied, not stolen
  EXPECT_FALSE(moved.in_arena());
  EXPECT_EQ(moved, "small");
  EXPECT_EQ(moved.name(), "");
  EXPECT_TRUE(b.in_arena());
  const std::string big(5000, 'x');
  b.SetIn(arena, b.name(), big);  // too large for the arena: malloc'ed
  EXPECT_FALSE(b.in_arena());
  EXPECT_EQ(b.name(), "name");
  EXPECT_EQ(b, big);
  b.SetIn(arena, b.name(), b.view().substr(10, 3));  // from its own bytes
  EXPECT_TRUE(b.in_arena());
  EXPECT_EQ(b, "xxx");
  b.ReleaseIn(arena);
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.name(), "");
}

TEST(BytesArena, TreeDataSurvivesSetDataCopiesAndSwap) {
  DataTree t;
  ASSERT_EQ(Create(t, "/a", "one"), proto::Err::kOk);
  ASSERT_EQ(t.SetData("/a", std::string(3000, 'L'), 1, 2, 2), proto::Err::kOk);
  EXPECT_EQ(t.Find("/a")->data.size(), 3000u);
  ASSERT_EQ(t.SetData("/a", "short", 2, 3, 3), proto::Err::kOk);
  EXPECT_TRUE(t.Find("/a")->data.in_arena());
  Node copy = *t.Find("/a");  // a value: its own malloc'ed block
  EXPECT_FALSE(copy.data.in_arena());
  EXPECT_EQ(copy.data, "short");
  DataTree other;
  other.Swap(t);
  EXPECT_EQ(other.Find("/a")->data, "short");
  EXPECT_EQ(other.Find("/a")->name(), "a");
  EXPECT_EQ(t.Find("/a"), nullptr);
  ASSERT_EQ(other.DeleteNode("/a", 4), proto::Err::kOk);
  ASSERT_EQ(Create(other, "/a", "three"), proto::Err::kOk);
  EXPECT_EQ(other.Find("/a")->data, "three");
}

TEST(ChildList, HugeChildListInRandomOrderStaysSortedThroughDeletes) {
  DataTree t;
  ASSERT_EQ(Create(t, "/wide"), proto::Err::kOk);
  constexpr int kKids = 20000;
  std::vector<int> order(kKids);
  for (int i = 0; i < kKids; ++i) order[i] = i;
  std::mt19937 rng(3);
  std::shuffle(order.begin(), order.end(), rng);
  for (int i : order) ASSERT_EQ(Create(t, "/wide/k" + std::to_string(i), ""), proto::Err::kOk);
  const Node* wide = t.Find("/wide");
  ASSERT_EQ(wide->children().size(), static_cast<size_t>(kKids));
  EXPECT_TRUE(std::is_sorted(wide->children().begin(), wide->children().end()));
  for (int i = 0; i < kKids; i += 3) ASSERT_EQ(t.DeleteNode("/wide/k" + std::to_string(i), 2), proto::Err::kOk);
  EXPECT_EQ(wide->children().size(), static_cast<size_t>(kKids - (kKids + 2) / 3));
  EXPECT_TRUE(std::is_sorted(wide->children().begin(), wide->children().end()));
  EXPECT_FALSE(wide->children().contains("k3"));
  EXPECT_TRUE(wide->children().contains("k4"));
  EXPECT_EQ(wide->stat.cversion(), kKids);  // creations, not changes
}

TEST(LoadNode, OutOfOrderExistingAndReservedLoadsMatchRestoreNode) {
  DataTree a, b;
  b.Reserve(10);
  StatPersisted s;
  s.czxid = 9;
  Node value;
  value.set_persisted(s);
  value.data = "v";
  const Node* p = b.LoadNode(b.Root(), "p", s, NodeKind::kPersistent, "v", false, Open());
  ASSERT_EQ(a.RestoreNode("/p", value, Open()), proto::Err::kOk);
  for (const char* name : {"m", "z", "a", "q"}) {  // "a" and "q" sort before the last name
    ASSERT_NE(b.LoadNode(p, name, s, NodeKind::kPersistent, "v", false, Open()), nullptr);
    ASSERT_EQ(a.RestoreNode(std::string("/p/") + name, value, Open()), proto::Err::kOk);
  }
  std::vector<std::string> kids(p->children().begin(), p->children().end());
  EXPECT_EQ(kids, (std::vector<std::string>{"a", "m", "q", "z"}));
  // An existing name is overwritten in place: same node, children kept.
  ASSERT_NE(b.LoadNode(b.Find("/p/m"), "c", s, NodeKind::kPersistent, "", false, Open()), nullptr);
  const Node* m = b.Find("/p/m");
  EXPECT_EQ(b.LoadNode(p, "m", s, NodeKind::kPersistent, "new", false, ReadOnly()), m);
  EXPECT_EQ(m->data, "new");
  EXPECT_EQ(m->children().size(), 1u);
  EXPECT_EQ(b.AclOf(*m), ReadOnly());
  EXPECT_EQ(b.NodeCount(), 4u + 6u);
  // Same data size as the RestoreNode path for the same nodes.
  ASSERT_EQ(a.RestoreNode("/p/m/c", Node(), Open()), proto::Err::kOk);
  value.data = "new";
  ASSERT_EQ(a.RestoreNode("/p/m", value, ReadOnly()), proto::Err::kOk);
  EXPECT_EQ(a.ApproximateDataSize(), b.ApproximateDataSize());
}

TEST(AclCache, RefsIndexAVectorAndAreNeverReused) {
  AclCache c;
  const AclCache::Ref open = c.Acquire(Open());
  const AclCache::Ref ro = c.Acquire(ReadOnly());
  EXPECT_NE(open, 0u);
  EXPECT_NE(open, ro);
  EXPECT_EQ(c.Acquire(Open()), open);  // keyed lookup after another list
  EXPECT_EQ(c.Acquire(Open()), open);  // the last-acquired fast path
  EXPECT_EQ(c.Acquire(ReadOnly()), ro);
  EXPECT_EQ(c.RefCount(open), 3u);
  EXPECT_EQ(c.RefCount(ro), 2u);
  c.Release(ro);
  c.Release(ro);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c.Get(ro), proto::AclList{});  // released: empty, not another list
  const AclCache::Ref again = c.Acquire(ReadOnly());
  EXPECT_NE(again, ro);
  EXPECT_EQ(c.Get(again), ReadOnly());
  EXPECT_EQ(c.Get(open), Open());
  EXPECT_EQ(c.Get(12345), proto::AclList{});
  c.Release(12345);  // unknown: ignored
  EXPECT_EQ(c.size(), 2u);
}

}  // namespace
}  // namespace aviary::tree
