// The data tree's memory budget (issue 10: RSS with 1M znodes <= 1/5 of
// ZooKeeper's): the bytes the tree's own structures hold per znode for the
// benchmark's shape (100-byte values, 12-byte names, many children per
// parent), child lists as 32-bit ids through a pool swap, and the node
// pool's slot ids as offsets from its base.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tree/data_tree.h"

namespace aviary::tree {
namespace {

proto::AclList Open() { return {proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}}}; }

proto::Err Create(DataTree& t, const std::string& path, const std::string& data) {
  return t.CreateNode(path, data, Open(), NodeKind::kPersistent, 0, 0, -1, 1, 1);
}

std::string SeqName(int i) {
  std::string digits = std::to_string(i);
  return "n-" + std::string(10 - digits.size(), '0') + digits;  // aviary-bench's sequential names: 12 bytes
}

// 32-byte node (no ephemeral_owner and no child list field: both are the
// link word of the name+data record, absent in a leaf without an owner;
// a pristine stat is czxid and ctime in 40 bits each; a parent's stat is
// extended: +56 bytes in the pool, for 100 parents) + 114-byte name+data
// record (2 header bytes) + ~4.5 bytes of child ids + the index's 8-byte
// slots at load 0.53-0.8 + the pool's last partly used 2 MiB step. The
// 56-byte node needed 24 more, the 72-byte one 40, the 88-byte one 56; the old layout (96 + 120
// + 8-byte child pointers) > 240 bytes.
TEST(MemoryBudget, BytesPerZnodeOfTheBenchmarkShape) {
  DataTree t;
  constexpr int kParents = 100;
  constexpr int kChildren = 2000;
  const std::string value(100, 'v');
  for (int p = 0; p < kParents; ++p) ASSERT_EQ(Create(t, "/p" + std::to_string(p), ""), proto::Err::kOk);
  for (int c = 0; c < kChildren; ++c) {
    for (int p = 0; p < kParents; ++p) {  // round-robin over parents, as aviary-bench's fill
      ASSERT_EQ(Create(t, "/p" + std::to_string(p) + "/" + SeqName(c), value), proto::Err::kOk);
    }
  }
  const double nodes = kParents * kChildren;
  const double per_node = static_cast<double>(t.ApproximateHeapBytes()) / nodes;
  EXPECT_LT(per_node, 32 + 114 + 5.0 + 8 / 0.5 + 8.0) << per_node;
  EXPECT_EQ(sizeof(Node), 32u);
  EXPECT_EQ(NodeBytes::BlockBytesFor(12, 100), 114u);
  EXPECT_EQ(t.Find("/p7/" + SeqName(1234))->data, value);
}

TEST(MemoryBudget, ChildIdsSurviveASwapAndDeletes) {
  DataTree a;
  ASSERT_EQ(Create(a, "/p", ""), proto::Err::kOk);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(Create(a, "/p/" + SeqName(i), std::to_string(i)), proto::Err::kOk);
  DataTree b;
  ASSERT_EQ(Create(b, "/q", "other tree"), proto::Err::kOk);
  b.Swap(a);  // nodes stay where they are; the pools (and their bases) trade places
  const Node* p = b.Find("/p");
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(p->children().size(), 50u);
  int i = 0;
  for (auto it = p->children().begin(); it != p->children().end(); ++it, ++i) {
    EXPECT_EQ(*it, SeqName(i));
    EXPECT_EQ(it.node()->data, std::to_string(i));
    EXPECT_EQ(b.Parent(*it.node()), p);
  }
  ASSERT_EQ(b.DeleteNode("/p/" + SeqName(10), 2), proto::Err::kOk);
  EXPECT_FALSE(p->children().contains(SeqName(10)));
  EXPECT_EQ(p->children().Get(SeqName(11))->data, "11");
  EXPECT_EQ(b.PathOf(*p->children().Get(SeqName(49))), "/p/" + SeqName(49));
  EXPECT_EQ(a.Find("/q")->data, "other tree");
  EXPECT_EQ(a.Find("/p"), nullptr);
  // A freed slot is reused and linked by id again.
  ASSERT_EQ(Create(b, "/p/" + SeqName(10), "again"), proto::Err::kOk);
  EXPECT_EQ(p->children().Get(SeqName(10))->data, "again");
  EXPECT_EQ(p->children().size(), 50u);
}

TEST(MemoryBudget, NodePoolIdsAreOffsetsFromItsBase) {
  NodePool pool;
  std::vector<Node*> nodes;
  for (int i = 0; i < 30000; ++i) nodes.push_back(pool.Alloc());  // > one 2 MiB step
  for (size_t i = 0; i < nodes.size(); ++i) {
    EXPECT_EQ(pool.IdOf(nodes[i]), i + 1);
    EXPECT_EQ(pool.At(static_cast<uint32_t>(i + 1)), nodes[i]);
  }
  EXPECT_GE(pool.capacity_bytes(), 30001 * sizeof(Node));
  pool.Free(nodes[5]);
  EXPECT_EQ(pool.Alloc(), nodes[5]);
  EXPECT_EQ(pool.live(), nodes.size());
  NodePool other(std::move(pool));
  EXPECT_EQ(other.At(6), nodes[5]);
  EXPECT_EQ(other.live(), nodes.size());
}

}  // namespace
}  // namespace aviary::tree
