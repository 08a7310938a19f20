// DigestTracker keeps the paths it remembers between Before and After in
// reused strings (no allocation per apply). The incremental digest must
// still equal the full walk after every txn, whatever the number of paths
// a txn touches goes up or down between txns (a closeSession sweeping more
// than the kept strings, duplicates in a multi, the root's parent).
#include <gtest/gtest.h>

#include <string>

#include "../tree/helpers.h"
#include "txn/apply.h"
#include "zkformat/digest.h"

namespace aviary::zkformat {
namespace {

using txn::testing::CreateReq;
using txn::testing::DeleteReq;
using txn::testing::MCreate;
using txn::testing::MDelete;
using txn::testing::MSetData;
using txn::testing::MultiReq;
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

}  // namespace
}  // namespace aviary::zkformat
