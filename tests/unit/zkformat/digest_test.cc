// Our tree digest against the TxnDigest a real ZooKeeper 3.8 logged after
// each txn (testdata/): the logged txns are applied to a fresh tree in
// order, and after each one the digest must equal ZooKeeper's.
#include "zkformat/digest.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "fixture.h"
#include "txn/apply.h"
#include "zkformat/digest_predict.h"

namespace aviary::zkformat {
namespace {

TEST(ZkDigest, MatchesEveryDigestZooKeeperLogged) {
  tree::DataTree tree;
  DigestTracker tracker;
  tracker.Reset(tree);
  size_t compared = 0;
  for (const ZkTxn& z : testing::FixtureTxns()) {
    tracker.Before(tree, z.txn);
    txn::Apply(tree, z.txn);
    tracker.After(tree);
    int64_t full = TreeDigestOf(tree);
    EXPECT_EQ(tracker.value(), full) << "zxid " << z.txn.zxid;
    if (!z.digest) continue;
    EXPECT_EQ(z.digest->version, kDigestVersion);
    EXPECT_EQ(full, z.digest->tree_digest)
        << "zxid " << std::hex << z.txn.zxid << " type " << static_cast<int>(z.txn.type);
    ++compared;
  }
  EXPECT_GT(compared, 30u);
}

TEST(ZkDigest, FreshTreeIsZooKeepersEmptyTree) {
  // The first logged txn (a createSession) carries the digest of the tree
  // ZooKeeper starts with.
  auto txns = testing::FixtureTxns();
  ASSERT_FALSE(txns.empty());
  ASSERT_TRUE(txns[0].digest.has_value());
  tree::DataTree tree;
  EXPECT_EQ(TreeDigestOf(tree), txns[0].digest->tree_digest);
}

TEST(ZkDigest, SystemSubtreeIsExcludedButZookeeperNodeCounts) {
  tree::Node n;
  n.stat.set_czxid(5);
  EXPECT_EQ(NodeDigest("/zookeeper/quota", n), 0u);
  EXPECT_NE(NodeDigest("/zookeeper", n), 0u);
  EXPECT_EQ(NodeDigest("/", n), NodeDigest("", n));
}

}  // namespace
}  // namespace aviary::zkformat

namespace aviary::zkformat {
namespace {

// The leader's view: the digest predicted before each txn is applied (as a
// ZooKeeper leader precalculates it for the PROPOSAL) equals what
// ZooKeeper logged and what the tree gives after the apply.
TEST(ZkDigestPredict, PredictsEveryDigestZooKeeperLoggedBeforeApplying) {
  tree::DataTree tree;
  int64_t digest = TreeDigestOf(tree);
  NodeLookup lookup = [&](std::string_view p) { return tree.Find(p); };
  size_t compared = 0;
  for (ZkTxn z : testing::FixtureTxns()) {
    FillClosePaths(tree, &z.txn);
    int64_t predicted = PredictDigest(digest, lookup, z.txn);
    txn::Apply(tree, z.txn);
    digest = TreeDigestOf(tree);
    EXPECT_EQ(predicted, digest) << "zxid " << z.txn.zxid;
    if (z.digest) {
      EXPECT_EQ(predicted, z.digest->tree_digest) << "zxid " << z.txn.zxid;
      ++compared;
    }
  }
  EXPECT_GT(compared, 30u);
}

// Two txns in flight: the second is predicted through a view that holds
// the first's effect (what an overlay gives), before either is applied.
TEST(ZkDigestPredict, SeesTxnsInFlightThroughTheLookup) {
  tree::DataTree tree, applied;
  txn::Txn create;
  create.zxid = 1;
  create.time_ms = 10;
  create.type = proto::OpCode::kCreate;
  create.op = txn::Op{proto::OpCode::kCreate, txn::CreateTxn{"/x", "d", {}, txn::NodeKind::kPersistent, 0, 0, 1}};
  txn::Txn set;
  set.zxid = 2;
  set.time_ms = 20;
  set.type = proto::OpCode::kSetData;
  set.op = txn::Op{proto::OpCode::kSetData, txn::SetDataTxn{"/x", "e", 1}};
  int64_t d1 = PredictDigest(
      TreeDigestOf(tree), [&](std::string_view p) { return tree.Find(p); }, create);
  txn::Apply(applied, create);  // the pending view after txn 1
  int64_t d2 = PredictDigest(
      d1, [&](std::string_view p) { return applied.Find(p); }, set);
  txn::Apply(applied, set);
  EXPECT_NE(d1, d2);
  EXPECT_EQ(d2, TreeDigestOf(applied));
}

// NodeDigest in two steps (the predictor's values keep the CRC state after
// the path and data, not the data) gives the same digest for every shape:
// the root, system nodes, empty / short / long (zlib path) data, pristine
// and extended stats, ephemeral and container owners.
TEST(ZkDigest, HeadAndFinishEqualNodeDigest) {
  const std::string long_data(3000, 'x');
  for (const char* path : {"/", "", "/zookeeper", "/zookeeper/quota", "/a", "/a/b/some-longer-name-0000000001"}) {
    for (std::string_view data : {std::string_view(), std::string_view("d"), std::string_view(long_data)}) {
      for (int shape = 0; shape < 4; ++shape) {
        tree::Node n;
        n.data = data;
        n.stat.Init(0x100000005, 1700000000000);
        if (shape >= 1) {
          n.stat.set_mzxid(0x100000009);
          n.stat.set_version(3);
          n.stat.set_cversion(2);
          n.stat.set_pzxid(0x10000000a);
          n.stat.set_aversion(1);
        }
        if (shape == 2) n.set_ephemeral_owner(0x123456789);
        if (shape == 3) n.set_ephemeral_owner(tree::kContainerOwner);
        EXPECT_EQ(NodeDigestFinish(path, NodeDigestHead(path, n.data), n.persisted()), NodeDigest(path, n))
            << path << " " << data.size() << " " << shape;
        EXPECT_EQ(DigestOf(path, ValueOf(path, n)), NodeDigest(path, n)) << path << " " << data.size() << " " << shape;
      }
    }
  }
}

// The predictor's form: txns predicted one after another through values
// (no tree::Node copies), each seeing the values the earlier ones left -
// a node created and set twice in flight, a child created under it (its
// parent a value), a multi touching one path twice, a delete, a setACL -
// equals the tree's digest after applying them, txn by txn.
TEST(ZkDigestPredict, ValuesInFlightGiveTheTreesDigest) {
  tree::DataTree tree, applied;
  std::unordered_map<std::string, std::optional<NodeValue>> in_flight;
  ValueLookup lookup = [&](std::string_view p) -> NodeBefore {
    auto it = in_flight.find(std::string(p));
    if (it == in_flight.end()) return NodeBefore{tree.Find(p), nullptr};
    return NodeBefore{nullptr, it->second ? &*it->second : nullptr};
  };
  auto single = [](int64_t zxid, txn::Op op) {
    txn::Txn t;
    t.zxid = zxid;
    t.time_ms = 1700000000000 + zxid;
    t.type = op.type;
    t.op = std::move(op);
    return t;
  };
  using proto::OpCode;
  std::vector<txn::Txn> txns;
  const std::string big(700, 'b');
  txns.push_back(single(1, {OpCode::kCreate, txn::CreateTxn{"/x", "d", {}, txn::NodeKind::kPersistent, 0, 0, 1}}));
  txns.push_back(single(2, {OpCode::kSetData, txn::SetDataTxn{"/x", big, 1}}));
  txns.push_back(single(3, {OpCode::kSetData, txn::SetDataTxn{"/x", "e", 2}}));
  txns.push_back(single(4, {OpCode::kCreate, txn::CreateTxn{"/x/c", "", {}, txn::NodeKind::kEphemeral, 0x77, 0, -1}}));
  txn::Txn multi;
  multi.zxid = 5;
  multi.time_ms = 1700000000005;
  multi.type = OpCode::kMulti;
  multi.multi.push_back({OpCode::kSetData, txn::SetDataTxn{"/x", "f", 3}});
  multi.multi.push_back({OpCode::kCreate, txn::CreateTxn{"/x/d", "g", {}, txn::NodeKind::kPersistent, 0, 0, -1}});
  multi.multi.push_back({OpCode::kSetData, txn::SetDataTxn{"/x", "h", 4}});
  txns.push_back(multi);
  txns.push_back(single(6, {OpCode::kDelete, txn::DeleteTxn{"/x/c"}}));
  txns.push_back(single(7, {OpCode::kSetAcl, txn::SetAclTxn{"/x", {}, 1}}));
  int64_t digest = TreeDigestOf(tree);
  PredictedNodes changed;
  for (const txn::Txn& t : txns) {
    digest = PredictDigest(digest, lookup, t, &changed);
    EXPECT_FALSE(changed.empty()) << "zxid " << t.zxid;
    for (PredictedNode& c : changed) in_flight[std::string(c.path)] = c.value;
    txn::Apply(applied, t);
    EXPECT_EQ(digest, TreeDigestOf(applied)) << "zxid " << t.zxid;
  }
  // The in-flight values say what the applied tree says of each node.
  for (const auto& [path, v] : in_flight) {
    const tree::Node* n = applied.Find(path);
    ASSERT_EQ(n != nullptr, v.has_value()) << path;
    if (n == nullptr) continue;
    EXPECT_EQ(v->stat, n->persisted()) << path;
    EXPECT_EQ(v->kind, n->kind) << path;
    EXPECT_EQ(DigestOf(path, *v), NodeDigest(path, *n)) << path;
  }
  ASSERT_EQ(in_flight.count("/x/c"), 1u);
  EXPECT_FALSE(in_flight["/x/c"].has_value());
}

}  // namespace
}  // namespace aviary::zkformat
