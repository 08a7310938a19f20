// The digest an Aviary leader puts in each PROPOSAL (DigestPredictor,
// predicted with txns in flight) against the tree after the apply
// (TreeDigestOf, the full walk) for every kind of txn, and the checks every
// member makes after applying (DigestChecker on a txn::StateMachine): the
// leader's own, and a follower's that decodes the proposal bytes.
#include "zkformat/digest_inflight.h"

#include <gtest/gtest.h>

#include <deque>

#include "../tree/helpers.h"
#include "txn/state_machine.h"
#include "zkformat/digest.h"
#include "zkformat/digest_check.h"
#include "zkformat/txn_codec.h"

namespace aviary::zkformat {
namespace {

using proto::OpCode;
using txn::testing::CreateReq;
using txn::testing::Ctx;
using txn::testing::DeleteReq;
using txn::testing::MCheck;
using txn::testing::MCreate;
using txn::testing::MDelete;
using txn::testing::MSetData;
using txn::testing::MultiReq;
using txn::testing::Open;
using txn::testing::SetAclReq;
using txn::testing::SetDataReq;

constexpr int32_t kEphemeral = 1;
constexpr int32_t kSequential = 2;
constexpr int64_t kSession = 0x100;
constexpr int64_t kOther = 0x200;

txn::PrepareOptions Extended() {
  txn::PrepareOptions o;
  o.extended_types_enabled = true;
  return o;
}

// A member: state machine + checker. The leader also prepares, predicts and
// encodes; the follower decodes the leader's bytes.
struct Member {
  txn::StateMachine sm;
  std::vector<DigestMismatch> mismatches;
  DigestChecker checker{[this](const DigestMismatch& m) { mismatches.push_back(m); }};
  Member() { sm.SetObserver(&checker); }
};

struct Ensemble {
  Member leader, follower;
  txn::Preparer prep{leader.sm.tree(), Extended()};
  DigestPredictor predictor;
  std::deque<txn::Txn> in_flight;     // the leader's txns, proposed, not applied
  std::deque<std::string> proposals;  // their ZooKeeper bytes
  int64_t zxid = 0;
  int64_t now = 1000;
  int compared = 0;
  bool apply_each = false;  // commit every txn before the next is proposed

  void Propose(txn::Txn t) {
    ZkTxn z;
    z.txn = t;
    const tree::DataTree& tree = leader.sm.tree();
    predictor.FillClosePaths(tree, leader.sm.last_zxid(), &z.txn);
    std::string bytes, error;
    ASSERT_TRUE(EncodeZkTxn(z, &bytes, &error)) << error;
    t.zk_digest = predictor.Predict(tree, leader.sm.last_zxid(), leader.checker.Current(tree), &z.txn);
    if (t.zk_digest) AppendTxnDigest(TxnDigest{kDigestVersion, *t.zk_digest}, &bytes);
    in_flight.push_back(std::move(t));
    proposals.push_back(std::move(bytes));
    if (apply_each) ApplyAll();
  }
  void Run(const proto::Request& r, const txn::SessionCtx& c = Ctx()) { Propose(prep.Prepare(r, c, ++zxid, ++now)); }
  void CreateSession(int64_t id) { Propose(prep.PrepareCreateSession(id, 30000, ++zxid, ++now)); }
  void CloseSession(int64_t id) { Propose(prep.PrepareCloseSession(id, ++zxid, ++now)); }
  void DeleteContainer(const std::string& path) { Propose(prep.PrepareDeleteContainer(path, ++zxid, ++now)); }

  // Commits everything in flight on both members, checking each digest
  // against the full walk of the tree after it.
  void ApplyAll() {
    while (!in_flight.empty()) {
      txn::Txn t = std::move(in_flight.front());
      in_flight.pop_front();
      leader.sm.Apply(t);
      prep.Applied(t.zxid);
      const int64_t full = TreeDigestOf(leader.sm.tree());
      EXPECT_EQ(t.type == OpCode::kError, !t.zk_digest.has_value()) << "zxid " << t.zxid;
      if (t.zk_digest) {
        EXPECT_EQ(*t.zk_digest, full) << "zxid " << t.zxid << " type " << static_cast<int>(t.type);
        ++compared;
      }
      EXPECT_EQ(leader.checker.Current(leader.sm.tree()), full);
      ApplyOnFollower(proposals.front(), full);
      proposals.pop_front();
    }
  }
  void ApplyOnFollower(const std::string& bytes, int64_t leader_digest) {
    ZkTxn z;
    std::string error;
    ASSERT_TRUE(DecodeZkTxn(bytes, &z, &error)) << error;
    if (z.digest) z.txn.zk_digest = z.digest->tree_digest;
    follower.sm.Apply(z.txn);
    EXPECT_EQ(TreeDigestOf(follower.sm.tree()), leader_digest) << "zxid " << z.txn.zxid;
  }
  void ExpectNoMismatch() {
    EXPECT_TRUE(leader.mismatches.empty());
    EXPECT_TRUE(follower.mismatches.empty());
    EXPECT_EQ(leader.checker.mismatches(), 0);
    EXPECT_EQ(follower.checker.mismatches(), 0);
    // Both compared every txn that carried a digest.
    EXPECT_EQ(leader.checker.compared(), compared);
    EXPECT_EQ(follower.checker.compared(), compared);
  }
};

TEST(DigestPredictor, EverySingleOpKindAppliedOneByOne) {
  Ensemble e;
  e.apply_each = true;
  e.CreateSession(kSession);
  e.Run(CreateReq("/a", "data"));
  e.Run(CreateReq("/a/seq-", "s", kSequential));
  e.Run(CreateReq("/a/eph", "e", kEphemeral));
  e.Run(CreateReq("/a/eseq-", "", kEphemeral | kSequential));
  e.Run(SetDataReq("/a", "new data"));
  e.Run(SetAclReq("/a", Open()));
  e.Run(DeleteReq("/a/seq-0000000000"));
  e.Run(CreateReq("/a", "dup"));  // NodeExists: an error txn, no digest
  e.Run(CreateReq("/c", "", 4, OpCode::kCreateContainer));
  e.Run(CreateReq("/t", "", 5, OpCode::kCreateTtl, Open(), 5));
  e.ApplyAll();
  e.ExpectNoMismatch();
  EXPECT_EQ(e.compared, 10);
}

// Everything proposed before anything is applied: each prediction sees the
// ones before it only through the predictor's view of the txns in flight.
TEST(DigestPredictor, TxnsInFlightOfEveryKind) {
  Ensemble e;
  e.CreateSession(kSession);
  e.CreateSession(kOther);
  e.Run(CreateReq("/a", "data"));
  e.Run(CreateReq("/a/seq-", "s", kSequential));
  e.Run(CreateReq("/a/seq-", "s", kSequential));
  e.Run(CreateReq("/a/eph", "e", kEphemeral));
  e.Run(CreateReq("/a/other", "o", kEphemeral), Ctx(kOther));
  e.Run(SetDataReq("/a", "v1"));
  e.Run(SetDataReq("/a", "v2"));
  e.Run(SetAclReq("/a", Open()));
  e.Run(DeleteReq("/a/seq-0000000000"));
  e.Run(MultiReq({MCreate("/m"), MCreate("/m/x"), MSetData("/m", "mm"), MCheck("/m", 1), MDelete("/m/x")}));
  e.Run(MultiReq({MCreate("/n"), MCreate("/a")}));  // fails: NodeExists, nothing changes
  e.Run(DeleteReq("/missing"));                     // fails
  e.Run(CreateReq("/c", "", 4, OpCode::kCreateContainer));
  e.Run(CreateReq("/c/child", "x"));
  e.Run(CreateReq("/t", "", 5, OpCode::kCreateTtl, Open(), 5));
  e.CloseSession(kOther);
  EXPECT_GT(e.predictor.in_flight_nodes(), 5u);
  e.ApplyAll();
  e.ExpectNoMismatch();
  EXPECT_EQ(e.compared, 17);
  EXPECT_EQ(e.leader.sm.tree().Find("/a/other"), nullptr);
}

// closeSession with ephemerals created and deleted by txns still in
// flight: the proposal lists what ZooKeeper's leader would (tree + pending
// creates - pending deletes) and the digest counts every deletion.
TEST(DigestPredictor, CloseSessionDeletesEphemeralsIncludingOnesInFlight) {
  Ensemble e;
  e.CreateSession(kSession);
  e.Run(CreateReq("/p", ""));
  e.Run(CreateReq("/p/e1", "1", kEphemeral));
  e.Run(CreateReq("/p/e2", "2", kEphemeral));
  e.ApplyAll();
  e.Run(CreateReq("/p/e3", "3", kEphemeral));  // in flight
  e.Run(DeleteReq("/p/e1"));                   // in flight
  e.Run(CreateReq("/p/e4-", "4", kEphemeral | kSequential));
  e.CloseSession(kSession);
  ZkTxn close;
  std::string error;
  ASSERT_TRUE(DecodeZkTxn(e.proposals.back(), &close, &error)) << error;
  const auto& paths = std::get<txn::CloseSessionTxn>(close.txn.op.body).paths_to_delete;
  EXPECT_EQ(paths, (std::vector<std::string>{"/p/e2", "/p/e3", "/p/e4-0000000003"}));
  e.ApplyAll();
  e.ExpectNoMismatch();
  EXPECT_EQ(e.leader.sm.tree().Find("/p")->children().size(), 0u);
}

// The container sweep and the TTL expiry are deleteContainer txns.
TEST(DigestPredictor, ContainerAndTtlDeletes) {
  Ensemble e;
  e.Run(CreateReq("/c", "", 4, OpCode::kCreateContainer));
  e.Run(CreateReq("/c/k", ""));
  e.Run(CreateReq("/t", "ttl", 5, OpCode::kCreateTtl, Open(), 1));
  e.Run(DeleteReq("/c/k"));
  e.DeleteContainer("/c");
  e.DeleteContainer("/t");
  e.DeleteContainer("/t");  // gone by then: an error txn
  e.ApplyAll();
  e.ExpectNoMismatch();
  EXPECT_EQ(e.leader.sm.tree().Find("/c"), nullptr);
  EXPECT_EQ(e.leader.sm.tree().Find("/t"), nullptr);
  EXPECT_EQ(e.compared, 6);
}

// Interleaved: some txns applied while others are proposed; the view of
// the txns in flight drops what the tree reflects.
TEST(DigestPredictor, InterleavedProposeAndApply) {
  Ensemble e;
  e.CreateSession(kSession);
  for (int i = 0; i < 40; ++i) {
    e.Run(CreateReq("/n" + std::to_string(i % 7), std::string(static_cast<size_t>(i), 'x')));
    e.Run(SetDataReq("/n" + std::to_string((i + 3) % 7), "s" + std::to_string(i)));
    if (i % 5 == 0) e.Run(DeleteReq("/n" + std::to_string((i + 1) % 7)));
    if (i % 3 == 0) e.ApplyAll();
  }
  e.ApplyAll();
  e.ExpectNoMismatch();
  e.Run(CreateReq("/last", ""));
  EXPECT_LE(e.predictor.in_flight_nodes(), 2u);  // "/last" and "/" only
  e.ApplyAll();
  e.ExpectNoMismatch();
}

// A new epoch (the zxid does not follow) or proposals abandoned at a role
// change: the predictor starts over from the tree.
TEST(DigestPredictor, StartsOverWhenTheZxidDoesNotFollow) {
  Ensemble e;
  e.Run(CreateReq("/a", "1"));
  e.ApplyAll();
  e.Run(CreateReq("/b", "abandoned"));  // never applied
  e.in_flight.clear();
  e.proposals.clear();
  e.prep.Reset();
  e.zxid = (int64_t{2} << 32);  // epoch 2
  e.Run(CreateReq("/b", "2"));
  e.Run(SetDataReq("/a", "3"));
  e.ApplyAll();
  e.ExpectNoMismatch();
  EXPECT_EQ(e.compared, 3);
}

TEST(DigestChecker, CountsAndReportsAMismatch) {
  Member m;
  txn::Txn t;
  t.zxid = 1;
  t.time_ms = 5;
  t.type = OpCode::kCreate;
  t.op = txn::Op{OpCode::kCreate, txn::CreateTxn{"/x", "d", Open(), txn::NodeKind::kPersistent, 0, 0, 1}};
  t.zk_digest = 12345;  // not the digest of the tree after it
  m.sm.Apply(t);
  ASSERT_EQ(m.mismatches.size(), 1u);
  EXPECT_EQ(m.checker.mismatches(), 1);
  EXPECT_EQ(m.mismatches[0].zxid, 1);
  EXPECT_EQ(m.mismatches[0].expected, 12345);
  EXPECT_EQ(m.mismatches[0].actual, TreeDigestOf(m.sm.tree()));
  // The right one: compared and not counted.
  tree::DataTree shadow;
  t.zk_digest.reset();
  txn::Apply(shadow, t);
  t.zxid = 2;
  t.op = txn::Op{OpCode::kSetData, txn::SetDataTxn{"/x", "e", 1}};
  t.type = OpCode::kSetData;
  txn::Apply(shadow, t);
  t.zk_digest = TreeDigestOf(shadow);
  m.sm.Apply(t);
  EXPECT_EQ(m.checker.mismatches(), 1);
  EXPECT_EQ(m.checker.compared(), 2);
  // Without one: not compared.
  t.zxid = 3;
  t.zk_digest.reset();
  t.op = txn::Op{OpCode::kSetData, txn::SetDataTxn{"/x", "f", 2}};
  m.sm.Apply(t);
  EXPECT_EQ(m.checker.compared(), 2);
  EXPECT_EQ(m.checker.mismatches(), 1);
}

// A snapshot loaded (the tree replaced behind the checker's back): the next
// digest is from the new tree.
TEST(DigestChecker, FollowsATreeReplacedBySnapshot) {
  Member m;
  EXPECT_EQ(m.checker.Current(m.sm.tree()), TreeDigestOf(m.sm.tree()));
  tree::DataTree other;
  txn::Txn t;
  t.zxid = 7;
  t.time_ms = 5;
  t.type = OpCode::kCreate;
  t.op = txn::Op{OpCode::kCreate, txn::CreateTxn{"/s", "snap", Open(), txn::NodeKind::kPersistent, 0, 0, 1}};
  txn::Apply(other, t);
  m.sm.tree().Swap(other);
  m.sm.set_last_zxid(7);
  EXPECT_EQ(m.checker.Current(m.sm.tree()), TreeDigestOf(m.sm.tree()));
  t.zxid = 8;
  t.type = OpCode::kSetData;
  t.op = txn::Op{OpCode::kSetData, txn::SetDataTxn{"/s", "v", 1}};
  m.sm.Apply(t);
  EXPECT_EQ(m.checker.Current(m.sm.tree()), TreeDigestOf(m.sm.tree()));
  EXPECT_EQ(m.checker.mismatches(), 0);
}

}  // namespace
}  // namespace aviary::zkformat
