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
    std::vector<std::string> kids(n.children.begin(), n.children.end());
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
  value.stat = s;
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
  EXPECT_EQ(b.Find("/zookeeper")->children.size(), 2u);
  EXPECT_EQ(b.Find("/zookeeper")->data, "z");
}

// kind and data_null live in stat's tail padding ([[no_unique_address]]):
// assigning a Stat, through the member or a reference to it, keeps them.
TEST(NodeLayout, StatAssignmentKeepsKindAndNullFlag) {
  static_assert(sizeof(Node) == 88);
  Node n;
  n.kind = NodeKind::kTtl;
  n.data_null = true;
  n.acl = 9;
  StatPersisted s;
  s.czxid = s.mzxid = s.pzxid = -1;
  s.ctime = s.mtime = -1;
  s.ephemeral_owner = -1;
  s.version = s.cversion = s.aversion = -1;
  n.stat = s;
  EXPECT_EQ(n.kind, NodeKind::kTtl);
  EXPECT_TRUE(n.data_null);
  StatPersisted& ref = n.stat;
  ref = StatPersisted{};
  EXPECT_EQ(n.kind, NodeKind::kTtl);
  EXPECT_TRUE(n.data_null);
  EXPECT_EQ(n.acl, 9u);
  n.stat = s;
  EXPECT_EQ(n.stat, s);
  Node copy(n);
  EXPECT_EQ(copy.stat, s);
  EXPECT_EQ(copy.kind, NodeKind::kTtl);
  EXPECT_TRUE(copy.data_null);
}

TEST(NodeLayout, TtlIsDerivedFromTheOwner) {
  DataTree t;
  ASSERT_EQ(t.CreateNode("/t", "", Open(), NodeKind::kTtl, 0, 12345, -1, 1, 1), proto::Err::kOk);
  EXPECT_EQ(t.Find("/t")->ttl_ms(), 12345);
  Node copy = *t.Find("/t");
  EXPECT_EQ(copy.ttl_ms(), 12345);
  EXPECT_EQ(copy.name(), "");
}

}  // namespace
}  // namespace aviary::tree
