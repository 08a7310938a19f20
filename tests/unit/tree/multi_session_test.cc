#include <gtest/gtest.h>

#include "helpers.h"

namespace aviary::txn {
namespace {

using proto::Err;
using proto::OpCode;
using testing::Ctx;
using testing::Fixture;

TEST(Multi, AllSucceed) {
  Fixture f;
  ApplyResult a = f.Run(
      testing::MultiReq({testing::MCreate("/a"), testing::MCreate("/a/b"), testing::MSetData("/a", "x", 0),
                         testing::MCheck("/a", 1), testing::MDelete("/a/b", 0),
                         proto::MultiOp{OpCode::kCreate2, proto::CreateRequest{"/z", "", testing::Open(), 0, -1}}}));
  EXPECT_EQ(a.err, Err::kOk);
  ASSERT_EQ(a.results.size(), 6u);
  EXPECT_EQ(a.results[0].type, OpCode::kCreate);
  EXPECT_EQ(a.results[0].path, "/a");
  EXPECT_EQ(a.results[2].type, OpCode::kSetData);
  EXPECT_EQ(a.results[2].stat.version, 1);
  EXPECT_EQ(a.results[3].type, OpCode::kCheck);
  EXPECT_EQ(a.results[4].type, OpCode::kDelete);
  // As ZooKeeper (checked by tests/diff/scripts/09_multi): a create2 op
  // inside multi answers as a plain create, path only.
  EXPECT_EQ(a.results[5].type, OpCode::kCreate);
  // All ops share the txn's zxid.
  EXPECT_EQ(f.StatOf("/a").czxid, 1);
  EXPECT_EQ(f.StatOf("/a").mzxid, 1);
  EXPECT_EQ(f.StatOf("/a").numChildren, 0);
  EXPECT_EQ(f.StatOf("/a").cversion, 2);
  EXPECT_EQ(a.triggers.size(), 2u + 2u + 1u + 2u + 2u);
  proto::MultiResponse m = ToMultiResponse(a);
  ASSERT_EQ(m.results.size(), 6u);
  EXPECT_EQ(m.results[5].path, "/z");
  EXPECT_EQ(m.results[5].type, OpCode::kCreate);
}

TEST(Multi, FailureCodesAndAtomicity) {
  Fixture f;
  ASSERT_EQ(f.RunErr(testing::CreateReq("/x")), Err::kOk);
  const Txn t = f.Prep(testing::MultiReq(
      {testing::MCreate("/a"), testing::MSetData("/x", "1"), testing::MCheck("/x", 7), testing::MCreate("/b")}));
  ASSERT_EQ(t.type, OpCode::kMulti);
  ASSERT_EQ(t.multi.size(), 4u);
  for (const Op& op : t.multi) EXPECT_EQ(op.type, OpCode::kError);
  EXPECT_EQ(std::get<ErrorTxn>(t.multi[0].body).err, Err::kOk);
  EXPECT_EQ(std::get<ErrorTxn>(t.multi[1].body).err, Err::kOk);
  EXPECT_EQ(std::get<ErrorTxn>(t.multi[2].body).err, Err::kBadVersion);
  EXPECT_EQ(std::get<ErrorTxn>(t.multi[3].body).err, Err::kRuntimeInconsistency);
  // Nothing of it is pending: /a can be created by the next request.
  EXPECT_EQ(f.Prep(testing::CreateReq("/a")).type, OpCode::kCreate);
  Fixture g;
  ASSERT_EQ(g.RunErr(testing::CreateReq("/x")), Err::kOk);
  ApplyResult a = g.Run(testing::MultiReq(
      {testing::MCreate("/a"), testing::MSetData("/x", "1"), testing::MCheck("/x", 7), testing::MCreate("/b")}));
  EXPECT_EQ(a.err, Err::kOk);  // header err of a multi is always 0
  EXPECT_EQ(FirstMultiError(a), Err::kBadVersion);
  ASSERT_EQ(a.results.size(), 4u);
  for (const OpResult& r : a.results) EXPECT_EQ(r.type, OpCode::kError);
  EXPECT_EQ(a.results[0].err, Err::kOk);
  EXPECT_EQ(a.results[2].err, Err::kBadVersion);
  EXPECT_EQ(a.results[3].err, Err::kRuntimeInconsistency);
  EXPECT_TRUE(a.triggers.empty());
  EXPECT_EQ(g.tree.Find("/a"), nullptr);
  EXPECT_EQ(g.tree.Find("/x")->data, "");
  EXPECT_EQ(g.StatOf("/x").version, 0);
  const proto::MultiResponse m = ToMultiResponse(a);
  EXPECT_EQ(m.results[2].err, static_cast<int32_t>(Err::kBadVersion));
}

TEST(Multi, OpsSeeEarlierOps) {
  Fixture f;
  // Second create of the same path inside one multi fails.
  ApplyResult a = f.Run(testing::MultiReq({testing::MCreate("/a"), testing::MCreate("/a")}));
  EXPECT_EQ(a.results[1].err, Err::kNodeExists);
  EXPECT_EQ(f.tree.Find("/a"), nullptr);
  // Sequential creates in one multi get consecutive numbers.
  ASSERT_EQ(f.RunErr(testing::CreateReq("/q")), Err::kOk);
  a = f.Run(testing::MultiReq({testing::MCreate("/q/n", 2), testing::MCreate("/q/n", 2)}));
  EXPECT_EQ(a.results[0].path, "/q/n0000000000");
  EXPECT_EQ(a.results[1].path, "/q/n0000000001");
}

TEST(Multi, FailedMultiRollsBackOverlayButKeepsPendingTxns) {
  Fixture f;
  const Txn pending = f.Prep(testing::CreateReq("/p"));
  const Txn bad = f.Prep(testing::MultiReq({testing::MSetData("/p", "x"), testing::MDelete("/nope")}));
  EXPECT_EQ(std::get<ErrorTxn>(bad.multi[1].body).err, Err::kNoNode);
  // /p still pending with version 0 (the multi's setData was rolled back).
  const Txn ok = f.Prep(testing::SetDataReq("/p", "y", 0));
  EXPECT_EQ(ok.type, OpCode::kSetData);
  f.Commit(pending);
  f.Commit(bad);
  f.Commit(ok);
  EXPECT_EQ(f.tree.Find("/p")->data, "y");
}

TEST(Multi, MarshallingAndEmpty) {
  Fixture f;
  proto::Request r = testing::MultiReq({proto::MultiOp{OpCode::kGetData, proto::GetDataRequest{"/", false}}});
  EXPECT_EQ(testing::TxnErr(f.Prep(r)), Err::kMarshallingError);
  r = testing::MultiReq({proto::MultiOp{OpCode::kCreate, proto::CreateRequest{"/a", "", testing::Open(), 9, -1}}});
  EXPECT_EQ(testing::TxnErr(f.Prep(r)), Err::kMarshallingError);
  ApplyResult a = f.Run(testing::MultiReq({}));
  EXPECT_EQ(a.err, Err::kOk);
  EXPECT_TRUE(a.results.empty());
  // Container flag inside a multi create becomes createContainer (create2-style result).
  a = f.Run(testing::MultiReq({testing::MCreate("/c", 4)}));
  EXPECT_EQ(a.results[0].type, OpCode::kCreate2);
  EXPECT_EQ(f.tree.Find("/c")->kind, tree::NodeKind::kContainer);
}

TEST(Session, CreateAndCloseDeletesEphemerals) {
  Fixture f;
  const Txn cs = f.prep.PrepareCreateSession(0x42, 30000, ++f.zxid, 5);
  EXPECT_EQ(cs.type, OpCode::kCreateSession);
  EXPECT_EQ(std::get<CreateSessionTxn>(cs.op.body).timeout_ms, 30000);
  ApplyResult a = f.Commit(cs);
  EXPECT_TRUE(a.results.empty());
  const SessionCtx s = Ctx(0x42);
  ASSERT_EQ(f.RunErr(testing::CreateReq("/d")), Err::kOk);
  ASSERT_EQ(f.RunErr(testing::CreateReq("/d/e1", "", 1), s), Err::kOk);
  ASSERT_EQ(f.RunErr(testing::CreateReq("/e2", "", 1), s), Err::kOk);
  ASSERT_EQ(f.RunErr(testing::CreateReq("/other", "", 1), Ctx(0x43)), Err::kOk);
  EXPECT_EQ(f.StatOf("/e2").ephemeralOwner, 0x42);
  // A pending ephemeral create and a pending delete are both accounted for.
  const Txn c3 = f.Prep(testing::CreateReq("/e3", "", 1), s);
  const Txn d2 = f.Prep(testing::DeleteReq("/e2"), s);
  const Txn close = f.prep.PrepareCloseSession(0x42, ++f.zxid, 9, 11);
  EXPECT_EQ(close.type, OpCode::kCloseSession);
  EXPECT_EQ(close.cxid, 11);
  // The txn lists no paths (its size must not grow with the ephemerals):
  // apply sweeps them from the tree.
  EXPECT_TRUE(std::get<CloseSessionTxn>(close.op.body).paths_to_delete.empty());
  // After close is prepared, the parent of the ephemeral is deletable.
  EXPECT_EQ(f.Prep(testing::DeleteReq("/d")).type, OpCode::kDelete);
  f.Commit(c3);
  f.Commit(d2);
  a = f.Commit(close);
  EXPECT_EQ(a.err, Err::kOk);
  EXPECT_TRUE(a.results.empty());
  EXPECT_EQ(a.triggers.size(), 4u);
  EXPECT_EQ(f.tree.Find("/d/e1"), nullptr);
  EXPECT_EQ(f.tree.Find("/e3"), nullptr);
  EXPECT_NE(f.tree.Find("/other"), nullptr);
  EXPECT_TRUE(f.tree.EphemeralsOf(0x42).empty());
  EXPECT_EQ(f.tree.EphemeralCount(), 1u);
}

TEST(Session, CloseSkipsMissingAndSweepsUnlisted) {
  Fixture f;
  ASSERT_EQ(f.RunErr(testing::CreateReq("/e", "", 1), Ctx(7)), Err::kOk);
  Txn t;
  t.session_id = 7;
  t.zxid = ++f.zxid;
  t.type = OpCode::kCloseSession;
  t.op = Op{OpCode::kCloseSession, CloseSessionTxn{{"/gone"}}};
  ApplyResult a = Apply(f.tree, t);
  EXPECT_EQ(a.err, Err::kOk);
  EXPECT_EQ(f.tree.Find("/e"), nullptr);  // killSession sweeps the rest
}

TEST(Container, DeleteContainerTxn) {
  Fixture f;
  ASSERT_EQ(f.RunErr(testing::CreateReq("/c", "", 4, OpCode::kCreateContainer)), Err::kOk);
  ASSERT_EQ(f.RunErr(testing::CreateReq("/c/x")), Err::kOk);
  EXPECT_EQ(testing::TxnErr(f.prep.PrepareDeleteContainer("/c", ++f.zxid, 1)), Err::kNotEmpty);
  ASSERT_EQ(f.RunErr(testing::DeleteReq("/c/x")), Err::kOk);
  EXPECT_EQ(f.tree.CleanupCandidates(f.now), std::vector<std::string>{"/c"});
  const Txn t = f.prep.PrepareDeleteContainer("/c", ++f.zxid, 2);
  EXPECT_EQ(t.type, OpCode::kDeleteContainer);
  EXPECT_EQ(t.session_id, 0);
  ApplyResult a = f.Commit(t);
  EXPECT_EQ(a.err, Err::kOk);
  EXPECT_EQ(a.triggers.size(), 2u);
  EXPECT_EQ(f.tree.Find("/c"), nullptr);
  EXPECT_EQ(testing::TxnErr(f.prep.PrepareDeleteContainer("/c", ++f.zxid, 3)), Err::kNoNode);
  EXPECT_EQ(testing::TxnErr(f.prep.PrepareDeleteContainer("/zookeeper", ++f.zxid, 3)), Err::kBadArguments);
  ASSERT_EQ(f.RunErr(testing::CreateReq("/e", "", 1)), Err::kOk);
  EXPECT_EQ(testing::TxnErr(f.prep.PrepareDeleteContainer("/e", ++f.zxid, 3)), Err::kBadVersion);
}

TEST(Replay, CreateExistingAndDeleteMissingAreHarmless) {
  Fixture f;
  const Txn c = f.Prep(testing::CreateReq("/a", "1"));
  f.Commit(c);
  const size_t nodes = f.tree.NodeCount();
  ApplyResult a = Apply(f.tree, c);
  EXPECT_EQ(a.err, Err::kNodeExists);
  EXPECT_TRUE(a.triggers.empty());
  EXPECT_EQ(f.tree.NodeCount(), nodes);
  const Txn d = f.Prep(testing::DeleteReq("/a"));
  f.Commit(d);
  a = Apply(f.tree, d);
  EXPECT_EQ(a.err, Err::kNoNode);
  EXPECT_EQ(f.tree.NodeCount(), nodes - 1);
}

}  // namespace
}  // namespace aviary::txn
