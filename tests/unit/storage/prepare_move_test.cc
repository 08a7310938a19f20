// Preparer::Prepare(Request&&) moves the request's strings into the txn
// instead of copying them (the server's write path). It must give exactly
// the txn the copying Prepare(const Request&) gives - compared here as the
// WAL's bytes (storage::EncodeTxn covers every field) - and leave the
// request's header alone.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../tree/helpers.h"
#include "storage/txn_codec.h"
#include "txn/apply.h"
#include "txn/prepare.h"

namespace aviary::storage {
namespace {

using txn::testing::CreateReq;
using txn::testing::DeleteReq;
using txn::testing::MCheck;
using txn::testing::MCreate;
using txn::testing::MDelete;
using txn::testing::MSetData;
using txn::testing::MultiReq;
using txn::testing::SetDataReq;

const std::string kData(100, 'd');  // past small-string storage
const std::string kParent = "/a-parent-long-enough-for-the-heap";

std::vector<proto::Request> Requests() {
  std::vector<proto::Request> reqs;
  reqs.push_back(CreateReq(kParent, kData));
  reqs.push_back(CreateReq(kParent + "/child-with-a-long-name", kData));
  reqs.push_back(CreateReq(kParent + "/seq-", kData, 2 /*PERSISTENT_SEQUENTIAL*/, proto::OpCode::kCreate2));
  reqs.push_back(CreateReq(kParent + "/eph-", "x", 3 /*EPHEMERAL_SEQUENTIAL*/));
  reqs.push_back(SetDataReq(kParent + "/child-with-a-long-name", kData + "2"));
  reqs.push_back(SetDataReq(kParent + "/child-with-a-long-name", kData, 7));  // bad version: error txn
  reqs.push_back(SetDataReq("/missing-node-with-a-long-name", kData));        // no node: error txn
  reqs.push_back(MultiReq({MCreate(kParent + "/m1"), MSetData(kParent + "/m1", kData), MCheck(kParent + "/m1", 1)}));
  reqs.push_back(MultiReq({MCreate(kParent + "/m2"), MDelete("/missing")}));  // a failed multi
  reqs.push_back(DeleteReq(kParent + "/m1"));
  reqs.push_back(DeleteReq(kParent + "/child-with-a-long-name", 1));
  for (size_t i = 0; i < reqs.size(); ++i) reqs[i].header.xid = static_cast<int32_t>(100 + i);
  return reqs;
}

TEST(PrepareMove, GivesTheSameTxnBytesAsTheCopyingPrepare) {
  tree::DataTree copy_tree;
  tree::DataTree move_tree;
  txn::Preparer copying(copy_tree, txn::PrepareOptions{});
  txn::Preparer moving(move_tree, txn::PrepareOptions{});
  const txn::SessionCtx ctx = txn::testing::Ctx(0x77);
  int64_t zxid = 0;
  size_t failed = 0;
  for (proto::Request& req : Requests()) {
    ++zxid;
    const proto::RequestHeader header = req.header;
    const txn::Txn a = copying.Prepare(req, ctx, zxid, 5000 + zxid);
    const txn::Txn b = moving.Prepare(std::move(req), ctx, zxid, 5000 + zxid);
    std::string bytes_a;
    std::string bytes_b;
    EncodeTxn(a, &bytes_a);
    EncodeTxn(b, &bytes_b);
    EXPECT_EQ(bytes_a, bytes_b) << "request " << zxid;
    EXPECT_EQ(req.header.xid, header.xid);  // the header stays for the reply
    EXPECT_EQ(req.header.type, header.type);
    failed += a.type == proto::OpCode::kError;
    // Apply both (the second preparer sees its own tree move the same way).
    txn::Apply(copy_tree, a);
    txn::Apply(move_tree, b);
    copying.Applied(zxid);
    moving.Applied(zxid);
  }
  EXPECT_EQ(failed, 2u);  // the bad version and the missing node
  const tree::Node* n = move_tree.Find(kParent + "/seq-0000000001");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->data.view(), kData);
}

TEST(PrepareMove, TheCopyingPrepareLeavesTheRequestIntact) {
  tree::DataTree tree;
  txn::Preparer prep(tree, txn::PrepareOptions{});
  const proto::Request req = CreateReq(kParent, kData);
  const txn::Txn t = prep.Prepare(req, txn::testing::Ctx(), 1, 1);
  ASSERT_EQ(t.type, proto::OpCode::kCreate);
  EXPECT_EQ(std::get<proto::CreateRequest>(req.body).path, kParent);
  EXPECT_EQ(std::get<proto::CreateRequest>(req.body).data, kData);
}

}  // namespace
}  // namespace aviary::storage
