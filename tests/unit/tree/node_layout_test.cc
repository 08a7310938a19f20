// The compact layout (node.h, node_pool.h, path_index.h) against a plain
// model: a std::map of paths, under random creates/deletes/setData, and the
// bulk LoadNode path against RestoreNode.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tree/data_tree.h"

namespace aviary::tree {
namespace {

proto::AclList Open() { return {proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}}}; }

TEST(NodeBytes, AssignKeepsTheNameAndCopiesDropIt) {
  NodeBytes b;
  b.Set("name", "data");
  b = std::string("longer data than before");
  EXPECT_EQ(b.name(), "name");
  EXPECT_EQ(b, "longer data than before");
  NodeBytes copy(b);
  EXPECT_EQ(copy.name(), "");
  EXPECT_EQ(copy, "longer data than before");
  b = std::string_view(b.data() + 7, 4);  // from its own bytes
  EXPECT_EQ(b, "data");
  b = "";
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.name(), "name");
}

TEST(NodeLayout, RandomOpsMatchAModel) {
  DataTree t;
  std::map<std::string, std::string> model;  // path -> data, user nodes only
  std::mt19937 rng(42);
  std::vector<std::string> parents = {"/"};
  int64_t zxid = 1;
  for (int i = 0; i < 20000; ++i) {
    const int op = static_cast<int>(rng() % 10);
    if (op < 6) {
      const std::string& parent = parents[rng() % parents.size()];
      const std::string path = (parent == "/" ? "" : parent) + "/k" + std::to_string(rng() % 300);
      const std::string data(rng() % 40, static_cast<char>('a' + rng() % 26));
      const proto::Err e = t.CreateNode(path, data, Open(), NodeKind::kPersistent, 0, 0, -1, zxid++, 1);
      const bool parent_exists = parent == "/" || model.count(parent) != 0;
      EXPECT_EQ(e == proto::Err::kOk, parent_exists && model.count(path) == 0) << path;
      if (e == proto::Err::kOk) {
        model[path] = data;
        if (parents.size() < 40) parents.push_back(path);
      }
    } else if (op < 8 && !model.empty()) {
      auto it = model.begin();
      std::advance(it, static_cast<long>(rng() % model.size()));
      const bool has_kids = model.lower_bound(it->first + "/") != model.end() &&
                            model.lower_bound(it->first + "/")->first.starts_with(it->first + "/");
      const proto::Err e = t.DeleteNode(it->first, zxid++);
      EXPECT_EQ(e, has_kids ? proto::Err::kNotEmpty : proto::Err::kOk) << it->first;
      if (!has_kids) model.erase(it);
    } else if (!model.empty()) {
      auto it = model.begin();
      std::advance(it, static_cast<long>(rng() % model.size()));
      it->second = std::string(rng() % 200, 'z');
      EXPECT_EQ(t.SetData(it->first, it->second, 1, zxid++, 2), proto::Err::kOk);
    }
  }
  EXPECT_EQ(t.NodeCount(), model.size() + 4);
  for (const auto& [path, data] : model) {
    const Node* n = t.Find(path);
    ASSERT_NE(n, nullptr) << path;
    EXPECT_EQ(n->data, data);
    EXPECT_EQ(t.PathOf(*n), path);
  }
  EXPECT_EQ(t.Find("/k1/"), nullptr);
  EXPECT_EQ(t.Find("k1"), nullptr);
  EXPECT_EQ(t.Find("/nope/k1"), nullptr);
  // ForEach sees exactly the model plus the root and system nodes, and
  // children iterate in byte order like std::set<std::string>.
  std::set<std::string> seen;
  t.ForEach([&](const std::string& path, const Node& n) {
    seen.insert(path);
    std::vector<std::string> kids(n.children().begin(), n.children().end());
    EXPECT_TRUE(std::is_sorted(kids.begin(), kids.end()));
  });
  EXPECT_EQ(seen.size(), model.size() + 4);
}

TEST(NodeLayout, LoadNodeMatchesRestoreNode) {
  DataTree a, b;
  StatPersisted s;
  s.czxid = 5;
  s.ephemeral_owner = 77;
  Node value;
  value.set_persisted(s);
  value.kind = NodeKind::kEphemeral;
  value.data = "payload";
  ASSERT_EQ(a.RestoreNode("/x", value, Open()), proto::Err::kOk);
  ASSERT_EQ(a.RestoreNode("/x/y", value, Open()), proto::Err::kOk);
  const Node* x = b.LoadNode(b.Root(), "x", s, NodeKind::kEphemeral, "payload", false, Open());
  ASSERT_NE(x, nullptr);
  ASSERT_NE(b.LoadNode(x, "y", s, NodeKind::kEphemeral, "payload", false, Open()), nullptr);
  EXPECT_EQ(b.LoadNode(x, "a/b", s, NodeKind::kPersistent, "", false, Open()), nullptr);
  EXPECT_EQ(a.EphemeralsOf(77), b.EphemeralsOf(77));
  EXPECT_EQ(a.ApproximateDataSize(), b.ApproximateDataSize());
  EXPECT_EQ(b.Find("/x/y")->data, "payload");
  EXPECT_EQ(b.Parent(*b.Find("/x/y")), x);
  EXPECT_EQ(b.Parent(*b.Root()), nullptr);
  // Overwriting an existing node (the root) keeps its children.
  ASSERT_NE(b.LoadNode(b.Root(), "zookeeper", s, NodeKind::kPersistent, "z", false, Open()), nullptr);
  EXPECT_EQ(b.Find("/zookeeper")->children().size(), 2u);
  EXPECT_EQ(b.Find("/zookeeper")->data, "z");
}

// kind and data_null live in stat's tail padding ([[no_unique_address]]):
// assigning a Stat, through the member or a reference to it, keeps them.
TEST(NodeLayout, StatAssignmentKeepsKindAndNullFlag) {
  static_assert(sizeof(Node) == 32);
  Node n;
  n.kind = NodeKind::kTtl;
  n.data_null = true;
  n.acl = 9;
  NodeStat s;
  s.set_czxid(-1);
  s.set_mzxid(-1);
  s.set_pzxid(-1);
  s.set_ctime(-1);
  s.set_mtime(-1);
  s.set_version(-1);
  s.set_cversion(-1);
  s.set_aversion(-1);
  n.stat = s;
  EXPECT_EQ(n.kind, NodeKind::kTtl);
  EXPECT_TRUE(n.data_null);
  NodeStat& ref = n.stat;
  ref = NodeStat{};
  EXPECT_EQ(n.kind, NodeKind::kTtl);
  EXPECT_TRUE(n.data_null);
  EXPECT_EQ(n.acl, 9u);
  n.stat = s;
  EXPECT_EQ(n.stat, s);
  n.set_ephemeral_owner(-1);
  Node copy(n);
  EXPECT_EQ(copy.stat, s);
  EXPECT_EQ(copy.ephemeral_owner(), -1);
  EXPECT_EQ(copy.kind, NodeKind::kTtl);
  EXPECT_TRUE(copy.data_null);
}

// The owner round-trips through persisted()/set_persisted() for every value
// (in the child list's word when its top two bits agree, in a block
// otherwise), on values and tree nodes, with and without children.
TEST(NodeLayout, EphemeralOwnerRoundTrips) {
  const int64_t owners[] = {0,
                            1,
                            -1,
                            77,
                            kContainerOwner,
                            INT64_MAX,
                            INT64_MIN + 1,
                            TtlOwner(12345),
                            TtlOwner(kMaxTtlMs),
                            static_cast<int64_t>(0x3fffffffffffffffULL),
                            static_cast<int64_t>(0x4000000000000000ULL),  // top bits 01: a block
                            static_cast<int64_t>(0x8100000000000001ULL),  // server id 129's sessions: a block
                            static_cast<int64_t>(0xc000000000000000ULL)};
  for (const int64_t owner : owners) {
    StatPersisted s;
    s.czxid = 3;
    s.mzxid = 4;
    s.ctime = 5;
    s.mtime = 6;
    s.pzxid = 7;
    s.version = 8;
    s.cversion = 9;
    s.aversion = 10;
    s.ephemeral_owner = owner;
    Node value;
    value.set_persisted(s);
    EXPECT_EQ(value.persisted(), s) << owner;
    EXPECT_TRUE(value.children().empty());
    Node copy(value);
    EXPECT_EQ(copy.persisted(), s) << owner;
    Node assigned;
    assigned.set_ephemeral_owner(55);
    assigned = value;
    EXPECT_EQ(assigned.ephemeral_owner(), owner);
    value.set_ephemeral_owner(0);
    EXPECT_EQ(value.ephemeral_owner(), 0);

    // In a tree: children come and go, the owner stays.
    DataTree t;
    const Node* x = t.LoadNode(t.Root(), "x", s, NodeKind::kPersistent, "d", false, Open());
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->persisted(), s);
    for (int i = 0; i < 20; ++i) {
      ASSERT_EQ(t.CreateNode("/x/c" + std::to_string(i), "", Open(), NodeKind::kPersistent, 0, 0, -1, 100 + i, 1),
                proto::Err::kOk);
      EXPECT_EQ(x->ephemeral_owner(), owner);
    }
    EXPECT_EQ(x->children().size(), 20u);
    EXPECT_EQ(*x->children().begin(), "c0");
    for (int i = 0; i < 20; ++i) {
      ASSERT_EQ(t.DeleteNode("/x/c" + std::to_string(i), 200 + i), proto::Err::kOk);
      EXPECT_EQ(x->ephemeral_owner(), owner);
    }
    EXPECT_TRUE(x->children().empty());
    EXPECT_EQ(x->children().begin(), x->children().end());
    EXPECT_EQ(x->persisted().ephemeral_owner, owner);
    EXPECT_EQ(x->stat.cversion(), 9 + 20);
  }
}

// A compact stat keeps a 40-bit czxid and a 40-bit time code; any other
// value is kept exactly (the extension pool), through copies, assignments,
// the tree and destruction.
TEST(NodeLayout, WideStatValuesRoundTrip) {
  const size_t wide_before = NodeStat::ExtendedCount();
  const int64_t values[] = {0,
                            1,
                            -1,
                            1764558000000,  // a ctime of 2025
                            (int64_t{1} << 47) - 1,
                            -(int64_t{1} << 47),
                            int64_t{1} << 47,  // epoch 32768: wide
                            -(int64_t{1} << 47) - 1,
                            INT64_MAX,
                            INT64_MIN,
                            static_cast<int64_t>(0x7fff00000001ULL),
                            static_cast<int64_t>(0x123456789abcdef0ULL)};
  for (const int64_t v : values) {
    StatPersisted s;
    // Wrapping arithmetic: the values include INT64_MIN and INT64_MAX.
    const auto wrap = [v](uint64_t d) { return static_cast<int64_t>(static_cast<uint64_t>(v) + d); };
    s.czxid = v;
    s.mzxid = v ^ 1;
    s.ctime = wrap(~uint64_t{0});
    s.mtime = wrap(1);
    s.pzxid = static_cast<int64_t>(uint64_t{0} - static_cast<uint64_t>(v));
    s.version = 3;
    s.cversion = -2;
    s.aversion = 7;
    s.ephemeral_owner = v;
    {
      Node value;
      value.kind = NodeKind::kEphemeral;
      value.data_null = true;
      value.set_persisted(s);
      EXPECT_EQ(value.persisted(), s) << v;
      EXPECT_EQ(value.kind, NodeKind::kEphemeral);
      EXPECT_TRUE(value.data_null);
      Node copy(value);
      EXPECT_EQ(copy.persisted(), s) << v;
      Node assigned;
      assigned = copy;
      EXPECT_EQ(assigned.persisted(), s) << v;
      EXPECT_EQ(assigned.stat, value.stat);
      // Back to narrow values: an assignment from a narrow stat drops the wide entry.
      assigned.stat = Node().stat;
      EXPECT_FALSE(assigned.stat.extended());
      EXPECT_EQ(assigned.stat.czxid(), 0);
      assigned.stat.set_mtime(v);
      EXPECT_EQ(assigned.stat.mtime(), v);
      EXPECT_EQ(assigned.stat.czxid(), 0);
      EXPECT_EQ(assigned.stat.ctime(), 0);
      EXPECT_EQ(assigned.stat.extended(), v != 0);
      const proto::Stat client = ToStat(value);
      EXPECT_EQ(client.czxid, s.czxid);
      EXPECT_EQ(client.mzxid, s.mzxid);
      EXPECT_EQ(client.ctime, s.ctime);
      EXPECT_EQ(client.mtime, s.mtime);
      EXPECT_EQ(client.pzxid, s.pzxid);
      EXPECT_EQ(client.ephemeralOwner, v);

      DataTree t;
      const Node* x = t.LoadNode(t.Root(), "x", s, NodeKind::kPersistent, "d", false, Open());
      ASSERT_NE(x, nullptr);
      EXPECT_EQ(x->persisted(), s) << v;
      ASSERT_EQ(t.SetData("/x", "e", 4, v, v, false), proto::Err::kOk);
      EXPECT_EQ(x->stat.mzxid(), v);
      EXPECT_EQ(x->stat.mtime(), v);
      EXPECT_EQ(x->stat.czxid(), s.czxid);
      ASSERT_EQ(t.DeleteNode("/x", 1), proto::Err::kOk);
    }
    EXPECT_EQ(NodeStat::ExtendedCount(), wide_before) << v;  // every entry went with its stat
  }
}

// Times: compact for 0..2^32-1 ms and for high parts kTimeBias +- 127
// (2012-08 to 2047-04), exact everywhere; aversion: compact only at 0,
// exact everywhere. Every other field keeps its value when the stat is
// extended or goes back.
TEST(NodeLayout, TimeAndAversionEdgesRoundTrip) {
  const size_t wide_before = NodeStat::ExtendedCount();
  constexpr int64_t kStep = int64_t{1} << 32;
  constexpr int64_t kLow = (NodeStat::kTimeBias - 127) * kStep;
  constexpr int64_t kHigh = (NodeStat::kTimeBias + 128) * kStep;  // first time past the range
  const std::pair<int64_t, bool> times[] = {{0, true},
                                            {1, true},
                                            {kStep - 1, true},
                                            {kStep, false},
                                            {-1, false},
                                            {1764558000000, true},   // 2025-12
                                            {1300000000000, false},  // 2011-03: before the range
                                            {kLow - 1, false},
                                            {kLow, true},
                                            {NodeStat::kTimeBias * kStep, true},
                                            {kHigh - 1, true},
                                            {kHigh, false},
                                            {INT64_MAX, false},
                                            {INT64_MIN, false}};
  for (const auto& [t, compact] : times) {
    EXPECT_EQ(NodeStat::TimeFits(t), compact) << t;
    NodeStat s;
    s.Init(5, t);
    EXPECT_EQ(s.extended(), !compact) << t;
    EXPECT_EQ(s.ctime(), t);
    EXPECT_EQ(s.mtime(), t);
    EXPECT_EQ(s.mzxid(), 5);
    EXPECT_EQ(s.pzxid(), 5);
    s.set_mtime(1764558000000);
    s.set_aversion(3);
    EXPECT_TRUE(s.extended());
    EXPECT_EQ(s.ctime(), t);
    EXPECT_EQ(s.mtime(), 1764558000000);
    EXPECT_EQ(s.czxid(), 5);
    EXPECT_EQ(s.aversion(), 3);
    NodeStat c(s);
    EXPECT_EQ(c, s);
    EXPECT_EQ(c.ctime(), t);
  }
  const int32_t aversions[] = {0, -1, 32767, 32768, -32767, -32768, INT32_MAX, INT32_MIN};
  for (const int32_t a : aversions) {
    Node n;
    StatPersisted p;
    p.czxid = 11;
    p.mzxid = 11;
    p.ctime = 1764558000001;
    p.mtime = 1764558000001;
    p.pzxid = 11;
    p.aversion = a;
    n.set_persisted(p);
    EXPECT_EQ(n.stat.extended(), a != 0) << a;
    EXPECT_EQ(n.persisted(), p) << a;
    EXPECT_EQ(ToStat(n).aversion, a);
    Node copy(n);
    EXPECT_EQ(copy.persisted(), p) << a;
    n.stat.set_aversion(1);  // exact, extended
    EXPECT_EQ(n.stat.aversion(), 1);
    EXPECT_EQ(n.stat.mtime(), 1764558000001);
    copy.stat = NodeStat();
    EXPECT_FALSE(copy.stat.extended());
    EXPECT_EQ(copy.stat.aversion(), 0);
    EXPECT_EQ(copy.stat.ctime(), 0);
  }
  EXPECT_EQ(NodeStat::ExtendedCount(), wide_before);
}

// A pristine stat (written once: mzxid == pzxid == czxid, mtime == ctime,
// versions 0, czxid of epoch < 256) is compact; anything else is extended,
// exact; Assign/Init go back to compact when they can.
TEST(NodeLayout, PristineStatsAreCompactOthersExact) {
  const size_t before = NodeStat::ExtendedCount();
  const std::pair<int64_t, bool> zxids[] = {{0, true},
                                            {1, true},
                                            {(int64_t{255} << 32) | 0xffffffff, true},
                                            {int64_t{256} << 32, false},
                                            {-1, false},
                                            {INT64_MAX, false},
                                            {INT64_MIN, false}};
  for (const auto& [z, compact] : zxids) {
    EXPECT_EQ(NodeStat::Fits(z), compact) << z;
    NodeStat s;
    s.Init(z, 1764558000000);
    EXPECT_EQ(s.extended(), !compact) << z;
    EXPECT_EQ(s.czxid(), z);
    EXPECT_EQ(s.mzxid(), z);
    EXPECT_EQ(s.pzxid(), z);
    EXPECT_EQ(s.ctime(), 1764558000000);
    EXPECT_EQ(s.mtime(), 1764558000000);
    EXPECT_EQ(s.version(), 0);
    EXPECT_EQ(s.cversion(), 0);
    EXPECT_EQ(s.aversion(), 0);
    // Each field alone: changing it extends the stat, the others stay.
    for (int f = 0; f < 8; ++f) {
      NodeStat e(s);
      switch (f) {
        case 0:
          e.set_czxid(7);
          break;
        case 1:
          e.set_mzxid(7);
          break;
        case 2:
          e.set_pzxid(7);
          break;
        case 3:
          e.set_ctime(7);
          break;
        case 4:
          e.set_mtime(7);
          break;
        case 5:
          e.set_version(7);
          break;
        case 6:
          e.set_cversion(7);
          break;
        default:
          e.set_aversion(7);
          break;
      }
      EXPECT_TRUE(e.extended()) << f;
      EXPECT_EQ(e.czxid(), f == 0 ? 7 : z) << f;
      EXPECT_EQ(e.mzxid(), f == 1 ? 7 : z) << f;
      EXPECT_EQ(e.pzxid(), f == 2 ? 7 : z) << f;
      EXPECT_EQ(e.ctime(), f == 3 ? 7 : 1764558000000) << f;
      EXPECT_EQ(e.mtime(), f == 4 ? 7 : 1764558000000) << f;
      EXPECT_EQ(e.version(), f == 5 ? 7 : 0) << f;
      EXPECT_EQ(e.cversion(), f == 6 ? 7 : 0) << f;
      EXPECT_EQ(e.aversion(), f == 7 ? 7 : 0) << f;
      EXPECT_FALSE(e == s);
      NodeStat c = e;  // a copy has its own entry
      c.set_version(99);
      EXPECT_EQ(e.version(), f == 5 ? 7 : 0);
      // Setting a value equal to the current one keeps a compact stat compact.
      NodeStat same(s);
      same.set_mzxid(z);
      same.set_mtime(1764558000000);
      same.set_version(0);
      EXPECT_EQ(same.extended(), !compact);
      // Back to pristine values: compact again.
      e.Assign(z, z, 1764558000000, 1764558000000, z, 0, 0, 0);
      EXPECT_EQ(e.extended(), !compact);
      EXPECT_EQ(e, s);
    }
  }
  EXPECT_EQ(NodeStat::ExtendedCount(), before);

  // In a tree: leaves created once stay compact, their parent is extended
  // (cversion, pzxid); a setData extends the node; a delete frees its entry.
  {
    DataTree t;
    const size_t empty = NodeStat::ExtendedCount();
    ASSERT_EQ(t.CreateNode("/p", "", Open(), NodeKind::kPersistent, 0, 0, -1, 10, 1764558000000), proto::Err::kOk);
    for (int i = 0; i < 100; ++i) {
      ASSERT_EQ(t.CreateNode("/p/n" + std::to_string(i), "data", Open(), NodeKind::kPersistent, 0, 0, -1, 11 + i,
                             1764558000000 + i),
                proto::Err::kOk);
    }
    const Node* leaf = t.Find("/p/n5");
    ASSERT_NE(leaf, nullptr);
    EXPECT_FALSE(leaf->stat.extended());
    EXPECT_TRUE(t.Find("/p")->stat.extended());
    EXPECT_EQ(ToStat(*t.Find("/p")).pzxid, 110);
    EXPECT_EQ(ToStat(*t.Find("/p")).cversion, 100);
    EXPECT_LE(NodeStat::ExtendedCount(), empty + 2);  // "/" and "/p"
    const size_t grown = NodeStat::ExtendedCount();
    ASSERT_EQ(t.SetData("/p/n5", "x", 1, 500, 1764558009999, false), proto::Err::kOk);
    EXPECT_TRUE(leaf->stat.extended());
    const proto::Stat st = ToStat(*leaf);
    EXPECT_EQ(st.czxid, 16);
    EXPECT_EQ(st.mzxid, 500);
    EXPECT_EQ(st.pzxid, 16);
    EXPECT_EQ(st.ctime, 1764558000005);
    EXPECT_EQ(st.mtime, 1764558009999);
    EXPECT_EQ(st.version, 1);
    EXPECT_EQ(NodeStat::ExtendedCount(), grown + 1);
    ASSERT_EQ(t.DeleteNode("/p/n5", 501), proto::Err::kOk);
    EXPECT_EQ(NodeStat::ExtendedCount(), grown);
  }
  EXPECT_EQ(NodeStat::ExtendedCount(), before);
}

TEST(NodeLayout, ContainersAndTtlsKeepTheirOwnerWithChildren) {
  DataTree t;
  ASSERT_EQ(t.CreateNode("/c", "", Open(), NodeKind::kContainer, 0, 0, -1, 1, 1), proto::Err::kOk);
  ASSERT_EQ(t.CreateNode("/t", "", Open(), NodeKind::kTtl, 0, 999, -1, 2, 1), proto::Err::kOk);
  ASSERT_EQ(t.CreateNode("/e", "", Open(), NodeKind::kEphemeral, 0x8100000000000001LL, 0, -1, 3, 1), proto::Err::kOk);
  ASSERT_EQ(t.CreateNode("/c/a", "", Open(), NodeKind::kPersistent, 0, 0, -1, 4, 1), proto::Err::kOk);
  ASSERT_EQ(t.CreateNode("/t/a", "", Open(), NodeKind::kPersistent, 0, 0, -1, 5, 1), proto::Err::kOk);
  EXPECT_EQ(t.Find("/c")->ephemeral_owner(), kContainerOwner);
  EXPECT_EQ(t.Find("/t")->ttl_ms(), 999);
  EXPECT_EQ(t.EphemeralsOf(0x8100000000000001LL), std::vector<std::string>{"/e"});
  EXPECT_EQ(DataTree::StatOf(*t.Find("/e")).ephemeralOwner, static_cast<int64_t>(0x8100000000000001ULL));
  EXPECT_EQ(DataTree::StatOf(*t.Find("/c")).ephemeralOwner, 0);
  EXPECT_EQ(DataTree::StatOf(*t.Find("/t")).ephemeralOwner, 0);
  EXPECT_EQ(DataTree::StatOf(*t.Find("/c")).numChildren, 1);
  ASSERT_EQ(t.DeleteNode("/c/a", 6), proto::Err::kOk);
  ASSERT_EQ(t.DeleteNode("/t/a", 7), proto::Err::kOk);
  EXPECT_EQ(t.Find("/c")->ephemeral_owner(), kContainerOwner);
  EXPECT_EQ(t.Find("/t")->ttl_ms(), 999);
  EXPECT_EQ(t.CleanupCandidates(1 + 1000), (std::vector<std::string>{"/c", "/t"}));
  ASSERT_EQ(t.DeleteNode("/e", 8), proto::Err::kOk);
  EXPECT_TRUE(t.EphemeralsOf(0x8100000000000001LL).empty());
}

TEST(NodeLayout, TtlIsDerivedFromTheOwner) {
  DataTree t;
  ASSERT_EQ(t.CreateNode("/t", "", Open(), NodeKind::kTtl, 0, 12345, -1, 1, 1), proto::Err::kOk);
  EXPECT_EQ(t.Find("/t")->ttl_ms(), 12345);
  Node copy = *t.Find("/t");
  EXPECT_EQ(copy.ttl_ms(), 12345);
  EXPECT_EQ(copy.name(), "");
}

// The children and the owner are the link word of the node's name+data
// record: a leaf without an owner has none (its record is name + data + 2
// header bytes), a parent or an owned node gets one (8 bytes), which
// survives data changes in and out of the arena, child churn, deletes,
// swaps and copies (copies carry the owner, never the children).
TEST(NodeLayout, LinkWordLivesInTheRecordOnlyWhenNeeded) {
  DataTree t;
  ASSERT_EQ(t.CreateNode("/p", "pdata", Open(), NodeKind::kPersistent, 0, 0, -1, 1, 1), proto::Err::kOk);
  const Node* p = t.Find("/p");
  EXPECT_EQ(p->data.link(), 0u);
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(t.CreateNode("/p/c" + std::to_string(100 + i), "v", Open(), NodeKind::kPersistent, 0, 0, -1, 2 + i, 1),
              proto::Err::kOk);
  }
  EXPECT_NE(p->data.link(), 0u);
  EXPECT_EQ(p->children().size(), 40u);
  EXPECT_EQ(t.Find("/p/c100")->data.link(), 0u);
  EXPECT_EQ(p->name(), "p");
  EXPECT_EQ(p->data, "pdata");
  // Data changes keep the children: arena -> malloc'ed (> 1 KiB) -> arena.
  const std::string big(5000, 'B');
  for (const std::string& d : {std::string("x"), big, std::string(), std::string("y")}) {
    ASSERT_EQ(t.SetData("/p", d, 1, 50, 1), proto::Err::kOk);
    EXPECT_EQ(t.Find("/p"), p);
    EXPECT_EQ(p->data, d);
    EXPECT_EQ(p->name(), "p");
    EXPECT_EQ(p->children().size(), 40u);
    EXPECT_EQ(*p->children().begin(), "c100");
    EXPECT_EQ(t.PathOf(*p->children().Get("c139")), "/p/c139");
  }
  // An ephemeral leaf carries its owner in the link word.
  ASSERT_EQ(t.CreateNode("/p/e", "ed", Open(), NodeKind::kEphemeral, 0x0123456789abcdefLL, 0, -1, 60, 1),
            proto::Err::kOk);
  const Node* e = t.Find("/p/e");
  EXPECT_EQ(e->ephemeral_owner(), 0x0123456789abcdefLL);
  EXPECT_EQ(e->data, "ed");
  EXPECT_EQ(e->name(), "e");
  EXPECT_EQ(ToStat(*e).ephemeralOwner, 0x0123456789abcdefLL);
  ASSERT_EQ(t.SetData("/p/e", big, 1, 61, 1), proto::Err::kOk);
  EXPECT_EQ(e->ephemeral_owner(), 0x0123456789abcdefLL);
  Node copy = *e;  // a value: the owner, not the children
  EXPECT_EQ(copy.ephemeral_owner(), 0x0123456789abcdefLL);
  EXPECT_EQ(copy.data, big);
  EXPECT_EQ(copy.name(), "");
  Node parent_copy = *p;
  EXPECT_TRUE(parent_copy.children().empty());
  EXPECT_EQ(parent_copy.data, "y");
  // Every child deleted: no children, the data stays; then back again.
  ASSERT_EQ(t.DeleteNode("/p/e", 62), proto::Err::kOk);
  for (int i = 0; i < 40; ++i) ASSERT_EQ(t.DeleteNode("/p/c" + std::to_string(100 + i), 70 + i), proto::Err::kOk);
  EXPECT_TRUE(p->children().empty());
  EXPECT_EQ(p->ephemeral_owner(), 0);
  EXPECT_EQ(p->data, "y");
  ASSERT_EQ(t.CreateNode("/p/again", "", Open(), NodeKind::kPersistent, 0, 0, -1, 200, 1), proto::Err::kOk);
  EXPECT_EQ(p->children().size(), 1u);
  DataTree other;
  other.Swap(t);
  EXPECT_EQ(other.Find("/p")->children().size(), 1u);
  EXPECT_EQ(*other.Find("/p")->children().begin(), "again");
  EXPECT_EQ(other.Parent(*other.Find("/p/again")), other.Find("/p"));
}

// A value's NodeBytes keeps its link through data assignments and moves.
TEST(NodeBytes, LinkSurvivesAssignmentsAndMoves) {
  Node v;
  v.data = std::string("abc");
  v.set_ephemeral_owner(kContainerOwner);  // does not fit the word: an aux-only block
  EXPECT_EQ(v.ephemeral_owner(), kContainerOwner);
  v.data = std::string(3000, 'z');
  EXPECT_EQ(v.ephemeral_owner(), kContainerOwner);
  EXPECT_EQ(v.data.size(), 3000u);
  NodeBytes moved(std::move(v.data));
  EXPECT_EQ(v.ephemeral_owner(), 0);
  EXPECT_EQ(v.data.size(), 0u);
  EXPECT_EQ(ChildList(moved.link()).aux(), kContainerOwner);
  v.set_ephemeral_owner(5);
  v.data = std::string();
  EXPECT_EQ(v.ephemeral_owner(), 5);
  v.set_ephemeral_owner(0);
  EXPECT_EQ(v.ephemeral_owner(), 0);
  EXPECT_EQ(v.data.size(), 0u);
}

}  // namespace
}  // namespace aviary::tree
