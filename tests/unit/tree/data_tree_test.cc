#include "tree/data_tree.h"

#include <gtest/gtest.h>

namespace aviary::tree {
namespace {

using proto::Err;

proto::AclList Open() { return {proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}}}; }

TEST(DataTree, FreshTreeMatchesZooKeeper) {
  DataTree t;
  EXPECT_EQ(t.NodeCount(), 4u);
  EXPECT_EQ(t.ApproximateDataSize(), 1 + 10 + 16 + 17);
  const Node* root = t.Find("/");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(t.Find(""), root);
  proto::Stat s = ToStat(*root);
  EXPECT_EQ(s.numChildren, 1);
  EXPECT_EQ(s.cversion, -1);  // 2*0 - 1, as `stat /` on a fresh ZooKeeper
  EXPECT_EQ(s.czxid, 0);
  EXPECT_EQ(t.AclOf(*root), Open());
  s = ToStat(*t.Find("/zookeeper"));
  EXPECT_EQ(s.numChildren, 2);
  EXPECT_EQ(s.cversion, -2);
  const Node* cfg = t.Find("/zookeeper/config");
  ASSERT_NE(cfg, nullptr);
  EXPECT_EQ(cfg->data, "");
  EXPECT_EQ(ToStat(*cfg).aversion, -1);
  EXPECT_EQ(t.AclOf(*cfg), (proto::AclList{{proto::perms::kRead, {"world", "anyone"}}}));
  EXPECT_EQ(t.AclOf(*t.Find("/zookeeper/quota")), Open());
  EXPECT_EQ(t.AclCount(), 2u);  // shared lists
}

TEST(DataTree, CreateDeleteIndexesAndStats) {
  DataTree t;
  ASSERT_EQ(t.CreateNode("/a", "xy", Open(), NodeKind::kPersistent, 0, 0, 1, 5, 100), Err::kOk);
  EXPECT_EQ(t.CreateNode("/a", "", Open(), NodeKind::kPersistent, 0, 0, 2, 6, 100), Err::kNodeExists);
  EXPECT_EQ(t.CreateNode("/x/y", "", Open(), NodeKind::kPersistent, 0, 0, 1, 6, 100), Err::kNoNode);
  ASSERT_EQ(t.CreateNode("/a/e", "", Open(), NodeKind::kEphemeral, 0x55, 0, 1, 7, 101), Err::kOk);
  ASSERT_EQ(t.CreateNode("/c", "", Open(), NodeKind::kContainer, 0, 0, 2, 8, 102), Err::kOk);
  ASSERT_EQ(t.CreateNode("/t", "", Open(), NodeKind::kTtl, 0, 50, 3, 9, 103), Err::kOk);
  EXPECT_EQ(t.NodeCount(), 8u);
  EXPECT_EQ(t.EphemeralCount(), 1u);
  EXPECT_EQ(t.EphemeralsOf(0x55), std::vector<std::string>{"/a/e"});
  EXPECT_EQ(t.Containers().count("/c"), 1u);
  EXPECT_EQ(t.Ttls().count("/t"), 1u);
  EXPECT_EQ(t.AclCount(), 2u);
  EXPECT_EQ(t.ApproximateDataSize(), 44 + 2 + 2 + 4 + 2 + 2);

  proto::Stat a = ToStat(*t.Find("/a"));
  EXPECT_EQ(a.czxid, 5);
  EXPECT_EQ(a.mzxid, 5);
  EXPECT_EQ(a.pzxid, 7);
  EXPECT_EQ(a.ctime, 100);
  EXPECT_EQ(a.dataLength, 2);
  EXPECT_EQ(a.numChildren, 1);
  EXPECT_EQ(a.cversion, 1);
  EXPECT_EQ(ToStat(*t.Find("/a/e")).ephemeralOwner, 0x55);
  EXPECT_EQ(ToStat(*t.Find("/c")).ephemeralOwner, 0);  // hidden, as ZooKeeper
  EXPECT_EQ(t.Find("/c")->ephemeral_owner(), kContainerOwner);
  EXPECT_EQ(t.Find("/t")->ephemeral_owner(), static_cast<int64_t>(0xff00000000000032ULL));
  EXPECT_EQ(t.DescendantCount("/"), 7);
  EXPECT_EQ(t.DescendantCount("/a"), 1);

  EXPECT_EQ(t.DeleteNode("/a", 10), Err::kNotEmpty);
  ASSERT_EQ(t.DeleteNode("/a/e", 10), Err::kOk);
  EXPECT_EQ(t.EphemeralCount(), 0u);
  EXPECT_TRUE(t.EphemeralsOf(0x55).empty());
  a = ToStat(*t.Find("/a"));
  EXPECT_EQ(a.cversion, 2);  // one create + one delete
  EXPECT_EQ(a.pzxid, 10);
  // Deleting a missing child still bumps the parent's pzxid (ZooKeeper).
  EXPECT_EQ(t.DeleteNode("/a/zz", 11), Err::kNoNode);
  EXPECT_EQ(ToStat(*t.Find("/a")).pzxid, 11);
  EXPECT_EQ(t.DeleteNode("/", 12), Err::kBadArguments);
  ASSERT_EQ(t.DeleteNode("/c", 12), Err::kOk);
  EXPECT_TRUE(t.Containers().empty());
}

TEST(DataTree, AclRefCounting) {
  DataTree t;
  const proto::AclList digest = {{proto::perms::kAll, {"digest", "u:x"}}};
  ASSERT_EQ(t.CreateNode("/a", "", digest, NodeKind::kPersistent, 0, 0, 1, 1, 1), Err::kOk);
  ASSERT_EQ(t.CreateNode("/b", "", digest, NodeKind::kPersistent, 0, 0, 2, 2, 1), Err::kOk);
  EXPECT_EQ(t.AclCount(), 3u);
  EXPECT_EQ(t.Find("/a")->acl, t.Find("/b")->acl);
  ASSERT_EQ(t.SetAcl("/a", Open(), 1), Err::kOk);
  EXPECT_EQ(t.AclCount(), 3u);
  ASSERT_EQ(t.DeleteNode("/b", 3), Err::kOk);
  EXPECT_EQ(t.AclCount(), 2u);
  EXPECT_EQ(ToStat(*t.Find("/a")).aversion, 1);
}

TEST(DataTree, CreateOnlyRaisesParentCversion) {
  DataTree t;
  ASSERT_EQ(t.CreateNode("/a", "", Open(), NodeKind::kPersistent, 0, 0, 5, 9, 1), Err::kOk);
  EXPECT_EQ(t.Find("/")->stat.cversion(), 5);
  ASSERT_EQ(t.CreateNode("/b", "", Open(), NodeKind::kPersistent, 0, 0, 3, 10, 1), Err::kOk);
  EXPECT_EQ(t.Find("/")->stat.cversion(), 5);  // replayed older create: unchanged
  EXPECT_EQ(t.Find("/")->stat.pzxid(), 9);
  ASSERT_EQ(t.CreateNode("/c", "", Open(), NodeKind::kPersistent, 0, 0, -1, 11, 1), Err::kOk);
  EXPECT_EQ(t.Find("/")->stat.cversion(), 6);
}

TEST(DataTree, CleanupCandidates) {
  DataTree t;
  ASSERT_EQ(t.CreateNode("/c0", "", Open(), NodeKind::kContainer, 0, 0, 1, 1, 1000), Err::kOk);
  ASSERT_EQ(t.CreateNode("/c1", "", Open(), NodeKind::kContainer, 0, 0, 2, 2, 1000), Err::kOk);
  ASSERT_EQ(t.CreateNode("/c1/x", "", Open(), NodeKind::kPersistent, 0, 0, 1, 3, 1000), Err::kOk);
  ASSERT_EQ(t.CreateNode("/c2", "", Open(), NodeKind::kContainer, 0, 0, 3, 4, 1000), Err::kOk);
  ASSERT_EQ(t.CreateNode("/c2/x", "", Open(), NodeKind::kPersistent, 0, 0, 1, 5, 1000), Err::kOk);
  ASSERT_EQ(t.DeleteNode("/c2/x", 6), Err::kOk);
  ASSERT_EQ(t.CreateNode("/t", "", Open(), NodeKind::kTtl, 0, 100, 4, 7, 1000), Err::kOk);
  ASSERT_EQ(t.CreateNode("/t2", "", Open(), NodeKind::kTtl, 0, 100, 5, 8, 1000), Err::kOk);
  ASSERT_EQ(t.CreateNode("/t2/k", "", Open(), NodeKind::kPersistent, 0, 0, 1, 9, 1000), Err::kOk);
  // c0 never used, c1 has a child, c2 used and empty. t not expired yet.
  EXPECT_EQ(t.CleanupCandidates(1100), std::vector<std::string>{"/c2"});
  EXPECT_EQ(t.CleanupCandidates(1101), (std::vector<std::string>{"/c2", "/t"}));
  EXPECT_EQ(t.CleanupCandidates(1101, 50), (std::vector<std::string>{"/c0", "/c2", "/t"}));
  ASSERT_EQ(t.SetData("/t", "x", 1, 10, 1050), Err::kOk);  // mtime refresh
  EXPECT_EQ(t.CleanupCandidates(1101), std::vector<std::string>{"/c2"});
}

}  // namespace
}  // namespace aviary::tree
