// Our tree digest against the TxnDigest a real ZooKeeper 3.8 logged after
// each txn (testdata/): the logged txns are applied to a fresh tree in
// order, and after each one the digest must equal ZooKeeper's.
#include "zkformat/digest.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace aviary::zkformat
