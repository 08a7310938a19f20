// Our tree digest against the TxnDigest a real ZooKeeper 3.8 logged after
// each txn (testdata/): the logged txns are applied to a fresh tree in
// order, and after each one the digest must equal ZooKeeper's.
#include "zkformat/digest.h"

#include <gtest/gtest.h>

#include "fixture.h"
#include "txn/apply.h"

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
  n.stat.czxid = 5;
  EXPECT_EQ(NodeDigest("/zookeeper/quota", n), 0u);
  EXPECT_NE(NodeDigest("/zookeeper", n), 0u);
  EXPECT_EQ(NodeDigest("/", n), NodeDigest("", n));
}

}  // namespace
}  // namespace aviary::zkformat
