// txn::Overlay: the newest pending record per path wins over the tree, and
// Applied / Rollback restore exactly what was visible before.
#include "txn/overlay.h"

#include <gtest/gtest.h>

#include "helpers.h"

namespace aviary::txn {
namespace {

NodeRec Rec(int64_t zxid, bool exists, int32_t version) {
  NodeRec r;
  r.zxid = zxid;
  r.exists = exists;
  r.stat.version = version;
  return r;
}

// A long path (no small-string storage), so a key that outlived its entry's
// string would read freed memory (ASan) or compare wrongly.
const std::string kLong = "/a-rather-long-parent-name/and-a-rather-long-child-name-0000000001";

class OverlayTest : public ::testing::Test {
 protected:
  tree::DataTree tree_;
  Overlay ov_{tree_};
};

TEST_F(OverlayTest, ReadsTheTreeUntilARecordIsPut) {
  ASSERT_EQ(tree_.CreateNode("/x", "abc", testing::Open(), tree::NodeKind::kPersistent, 0, 0, -1, 1, 1),
            proto::Err::kOk);
  auto r = ov_.Get("/x");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->zxid, -1);
  EXPECT_EQ(r->data_bytes, 3);
  ASSERT_TRUE(r->acl);
  EXPECT_EQ(*r->acl, testing::Open());
  EXPECT_FALSE(ov_.Get("/missing").has_value());
  ov_.Put("/x", Rec(2, false, 0));  // a pending delete hides the tree's node
  EXPECT_FALSE(ov_.Get("/x").has_value());
  ov_.Applied(2);
  EXPECT_TRUE(ov_.Get("/x").has_value());  // back to the tree (not yet deleted there)
  EXPECT_EQ(ov_.size(), 0u);
}

TEST_F(OverlayTest, NewestRecordWinsAndAppliedDropsOnlyOlderOnes) {
  ov_.Put(kLong, Rec(1, true, 0));
  ov_.Put(kLong, Rec(2, true, 1));
  ov_.Put(kLong, Rec(3, true, 2));
  EXPECT_EQ(ov_.Get(kLong)->stat.version, 2);
  ov_.Applied(2);  // the first two entries leave; the newest stays the path's record
  ASSERT_TRUE(ov_.Get(std::string(kLong)).has_value());
  EXPECT_EQ(ov_.Get(kLong)->stat.version, 2);
  ov_.Applied(3);
  EXPECT_FALSE(ov_.Get(kLong).has_value());
}

TEST_F(OverlayTest, RollbackRestoresReplacedAndRemovesNewRecords) {
  ov_.Put(kLong, Rec(1, true, 7));
  ov_.Begin();
  ov_.Put(kLong, Rec(2, true, 8));
  ov_.Put("/new-one-with-a-long-enough-name", Rec(2, true, 0));
  ov_.Put(kLong, Rec(2, false, 0));
  EXPECT_FALSE(ov_.Get(kLong).has_value());
  ov_.Rollback();
  ASSERT_TRUE(ov_.Get(kLong).has_value());
  EXPECT_EQ(ov_.Get(kLong)->stat.version, 7);
  EXPECT_FALSE(ov_.Get("/new-one-with-a-long-enough-name").has_value());
  EXPECT_EQ(ov_.size(), 1u);
  ov_.Applied(1);
  EXPECT_FALSE(ov_.Get(kLong).has_value());
}

TEST_F(OverlayTest, CommitKeepsRecordsAndEmptyPathIsRoot) {
  ov_.Begin();
  ov_.Put("", Rec(1, true, 4));
  ov_.Commit();
  EXPECT_EQ(ov_.Get("/")->stat.version, 4);
  EXPECT_EQ(ov_.Get("")->stat.version, 4);
}

TEST_F(OverlayTest, SharedAclFollowsTheTreesList) {
  const proto::AclList other{proto::Acl{proto::perms::kRead, proto::Id{"world", "anyone"}}};
  ASSERT_EQ(tree_.CreateNode("/p", "", testing::Open(), tree::NodeKind::kPersistent, 0, 0, -1, 1, 1), proto::Err::kOk);
  ASSERT_EQ(tree_.CreateNode("/q", "", other, tree::NodeKind::kPersistent, 0, 0, -1, 2, 1), proto::Err::kOk);
  auto p1 = ov_.Get("/p");
  auto p2 = ov_.Get("/p");
  EXPECT_EQ(p1->acl.get(), p2->acl.get());  // one list shared, not a copy per read
  EXPECT_EQ(*ov_.Get("/q")->acl, other);
  // The tree's list of /p changes (its old reference is released and may be
  // reused): the overlay must not keep handing out the old list.
  ASSERT_EQ(tree_.SetAcl("/p", other, -1), proto::Err::kOk);
  EXPECT_EQ(*ov_.Get("/p")->acl, other);
}

}  // namespace
}  // namespace aviary::txn
