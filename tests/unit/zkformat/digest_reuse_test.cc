// DigestTracker keeps the paths it remembers between Before and After in
// reused strings (no allocation per apply). The incremental digest must
// still equal the full walk after every txn, whatever the number of paths
// a txn touches goes up or down between txns (a closeSession sweeping more
// than the kept strings, duplicates in a multi, the root's parent).
#include <gtest/gtest.h>

#include <string>

#include "../tree/helpers.h"
#include "txn/apply.h"
#include "txn/state_machine.h"
#include "zkformat/digest.h"
#include "zkformat/digest_check.h"

namespace aviary::zkformat {
namespace {

using txn::testing::CreateReq;
using txn::testing::DeleteReq;
using txn::testing::MCreate;
using txn::testing::MDelete;
using txn::testing::MSetData;
using txn::testing::MultiReq;
using txn::testing::SetAclReq;
using txn::testing::SetDataReq;

class DigestReuse : public ::testing::Test {
 protected:
  void Run(const txn::Txn& t) {
    tracker_.Before(tree_, t);
    txn::Apply(tree_, t);
    tracker_.After(tree_);
    prep_.Applied(t.zxid);
    ASSERT_EQ(tracker_.value(), TreeDigestOf(tree_)) << "zxid " << t.zxid;
  }
  void Run(const proto::Request& r, int64_t session = 0x5) {
    ++zxid_;
    Run(prep_.Prepare(r, txn::testing::Ctx(session), zxid_, 1000 + zxid_));
  }

  tree::DataTree tree_;
  txn::Preparer prep_{tree_, txn::PrepareOptions{}};
  DigestTracker tracker_;
  int64_t zxid_ = 0;
};

TEST_F(DigestReuse, IncrementalEqualsFullAcrossShrinkingAndGrowingTxns) {
  tracker_.Reset(tree_);
  const std::string parent = "/a-parent-with-a-name-past-small-strings";
  Run(CreateReq(parent, "p"));
  Run(CreateReq("/top", "t"));  // its parent is the root
  for (int i = 0; i < 100; ++i) Run(CreateReq(parent + "/ephemeral-" + std::to_string(i), "e", 1), 0x9);
  Run(SetDataReq(parent, std::string(300, 'x')));
  // One txn touching 200 paths (each ephemeral and its parent), then small ones.
  ++zxid_;
  Run(prep_.PrepareCloseSession(0x9, zxid_, 2000));
  EXPECT_EQ(tree_.Find(parent)->children().size(), 0u);
  Run(SetDataReq(parent, "short"));
  Run(MultiReq(
      {MCreate(parent + "/m"), MSetData(parent + "/m", "1"), MSetData(parent + "/m", "2"), MSetData(parent, "3")}));
  Run(MultiReq({MDelete(parent + "/m"), MCreate(parent + "/m"), MSetData("/top", "tt")}));
  Run(DeleteReq("/top"));
  Run(SetDataReq("/missing", "d"));  // an error txn touches nothing
  EXPECT_EQ(tree_.Find(parent)->data.view(), "3");
}

// The node digests After computed are reused by the next Before of the same
// node (a cache): hits for repeated changes of a node, and never a stale
// value - a setACL (aversion only), a child's create or delete (the
// parent's pzxid / cversion), a node deleted and another created where it
// was (a freed slot reused), a multi changing one node twice.
TEST_F(DigestReuse, CachedNodeDigestsAreReusedAndNeverStale) {
  tracker_.Reset(tree_);
  Run(CreateReq("/c", "0"));
  const int64_t hits0 = tracker_.cache_hits();
  for (int i = 0; i < 20; ++i) Run(SetDataReq("/c", std::string(static_cast<size_t>(i), 'x')));
  EXPECT_GE(tracker_.cache_hits() - hits0, 19);  // all but the first (its create cached it too)
  Run(SetAclReq("/c", {proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}}}));
  Run(SetAclReq("/c", {proto::Acl{proto::perms::kAll ^ proto::perms::kRead, proto::Id{"world", "anyone"}}}));
  Run(SetAclReq("/c", {proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}}}));
  for (int round = 0; round < 30; ++round) {
    const std::string kid = "/c/k" + std::to_string(round % 3);
    Run(CreateReq(kid, "k"));
    Run(SetDataReq("/c", "p" + std::to_string(round)));
    Run(DeleteReq(kid));                                      // the node's slot is freed ...
    Run(CreateReq("/c/other" + std::to_string(round), "o"));  // ... and may hold this one
    Run(SetDataReq("/c/other" + std::to_string(round), "o2"));
    Run(MultiReq({MSetData("/c", "m1"), MSetData("/c", "m2"), MCreate(kid), MDelete(kid)}));
  }
  EXPECT_GT(tracker_.cache_hits() - hits0, 100);
}

// A lone setData's node is looked up once by the state machine and handed
// to the digest (BeforeApply) and to the apply: the digest must still follow
// the full walk, for setData among the other kinds and on an Applied reused
// from txn to txn (its results and session change overwritten each time).
TEST(DigestOnStateMachine, LoneSetDataNodeHandedToTheDigestAndTheApply) {
  txn::StateMachine sm;
  txn::Preparer prep(sm.tree(), txn::PrepareOptions{});
  DigestChecker checker;
  sm.SetObserver(&checker);
  int64_t zxid = 0;
  txn::Applied a;
  auto run = [&](const proto::Request& r) {
    ++zxid;
    sm.Apply(prep.Prepare(r, txn::testing::Ctx(0x5), zxid, 1000 + zxid), &a);
    prep.Applied(zxid);
    ASSERT_EQ(checker.Current(sm.tree()), TreeDigestOf(sm.tree())) << "zxid " << zxid;
  };
  run(CreateReq("/a", "1"));
  EXPECT_EQ(a.result.results.size(), 1u);
  for (int i = 0; i < 5; ++i) {
    run(SetDataReq("/a", std::string(static_cast<size_t>(10 + 40 * i), 'd')));
    ASSERT_EQ(a.result.err, proto::Err::kOk);
    ASSERT_EQ(a.result.results.size(), 1u);  // this txn's only
    EXPECT_EQ(a.result.results[0].stat.version, i + 1);
    EXPECT_EQ(a.result.results[0].stat.mzxid, zxid);
    EXPECT_EQ(a.result.results[0].stat.dataLength, 10 + 40 * i);
  }
  run(SetDataReq("/a", "v", 3));  // a bad version: an error txn, nothing changes
  EXPECT_EQ(a.result.err, proto::Err::kBadVersion);
  EXPECT_TRUE(a.result.results.empty() || a.result.results[0].err == proto::Err::kBadVersion);
  run(SetDataReq("/missing", "v"));
  EXPECT_EQ(a.result.err, proto::Err::kNoNode);
  run(MultiReq({MSetData("/a", "m1"), MCreate("/a/b"), MSetData("/a/b", "m2")}));
  EXPECT_EQ(a.result.results.size(), 3u);
  run(SetDataReq("/a/b", "after"));
  EXPECT_EQ(a.result.results.size(), 1u);
  EXPECT_EQ(sm.tree().Find("/a/b")->data.view(), "after");
  ++zxid;
  sm.Apply(prep.PrepareCreateSession(0x77, 5000, zxid, 2000), &a);
  EXPECT_EQ(a.session.kind, txn::SessionChange::Kind::kCreated);
  run(SetDataReq("/a", "x"));
  EXPECT_EQ(a.session.kind, txn::SessionChange::Kind::kNone);  // not the previous txn's
  EXPECT_TRUE(a.as_prepared);
  EXPECT_EQ(checker.mismatches(), 0);
}

}  // namespace
}  // namespace aviary::zkformat
