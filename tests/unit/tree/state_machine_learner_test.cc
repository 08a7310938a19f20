// txn::StateMachine in learner mode (ApplyMode::kLearner): a follower or
// observer applying the leader's txns over a state that already reflects
// some of them - a leader's fuzzy SNAP, as ZooKeeper sends under write
// load - never aborts. Inside the fuzzy window the replay converges on the
// leader's tree without a warning; outside it every outcome other than the
// recorded one is tolerated, applied as ZooKeeper's DataTree.processTxn
// would, and counted.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "helpers.h"
#include "txn/prepare.h"
#include "txn/state_machine.h"

namespace aviary::txn {
namespace {

using proto::OpCode;
using testing::Ctx;

constexpr int64_t kOwner = 0x51;  // closes its session after the snapshot's zxid
constexpr int64_t kLater = 0x52;  // created after the snapshot's zxid
constexpr int64_t kSnapZxid = 5;  // the SNAP's zxid: the tree reflects everything, though

// Every node's data and client-visible stat, by path.
using Shape = std::map<std::string, std::tuple<std::string, int64_t, int64_t, int32_t, int32_t, int64_t, int64_t>>;

Shape ShapeOf(const tree::DataTree& t) {
  Shape out;
  t.ForEach([&](const std::string& path, const tree::Node& n) {
    const proto::Stat s = tree::ToStat(n);
    out[path] = {std::string(n.data), s.czxid, s.mzxid, s.version, s.cversion, s.pzxid, s.ephemeralOwner};
  });
  return out;
}

// The leader: prepares and applies (strict) a workload; the txns after
// kSnapZxid are what a learner gets after the SNAP.
struct Leader {
  StateMachine sm;
  Preparer prep{sm.tree(), PrepareOptions{}};
  std::vector<Txn> after_snap;
  int64_t zxid = 0;

  void Run(Txn t) {
    sm.Apply(t);
    prep.Applied(t.zxid);
    if (t.zxid > kSnapZxid) after_snap.push_back(std::move(t));
  }
  void Write(const proto::Request& r, int64_t session = kOwner) { Run(prep.Prepare(r, Ctx(session), ++zxid, 1000)); }

  Leader() {
    Run(prep.PrepareCreateSession(kOwner, 30000, ++zxid, 1000));
    Write(testing::CreateReq("/a"));
    Write(testing::CreateReq("/a/x"));
    Write(testing::SetDataReq("/a", "v1", 0));
    Write(testing::CreateReq("/eph", "", static_cast<int32_t>(proto::CreateMode::kEphemeral)));
    // kSnapZxid. Everything below is already in the (fuzzy) snapshot.
    Write(testing::CreateReq("/b"));            // create of an existing node
    Write(testing::DeleteReq("/a/x"));          // delete of a missing node
    Write(testing::SetDataReq("/a", "v2", 1));  // setData over a newer version
    Write(testing::MultiReq({testing::MCreate("/m"), testing::MSetData("/b", "mb", 0), testing::MCheck("/a", 2)}));
    Run(prep.PrepareCreateSession(kLater, 20000, ++zxid, 1000));  // a session already in the table
    Run(prep.PrepareCloseSession(kOwner, ++zxid, 1000));          // a session no longer in it; sweeps /eph
    Write(testing::CreateReq("/c"), kLater);
  }
};

// The learner's state: the leader's final tree and session table, labelled
// kSnapZxid (the extreme fuzzy snapshot: it reflects every later txn).
void InstallFuzzySnapshot(const StateMachine& from, StateMachine* to) {
  std::vector<std::string> paths;
  from.tree().ForEach([&](const std::string& p, const tree::Node&) { paths.push_back(p); });
  std::sort(paths.begin(), paths.end());  // parents first
  for (const std::string& p : paths) {
    const tree::Node* n = from.tree().Find(p);
    ASSERT_EQ(to->tree().RestoreNode(p, *n, from.tree().AclOf(*n)), proto::Err::kOk) << p;
  }
  for (const auto& [id, timeout_ms] : from.sessions()) to->PutSession(id, timeout_ms);
  to->set_last_zxid(kSnapZxid);
  to->SetMode(ApplyMode::kLearner);
}

TEST(StateMachineLearner, FuzzySnapshotWindowConvergesWithoutWarnings) {
  Leader leader;
  StateMachine learner;
  InstallFuzzySnapshot(leader.sm, &learner);
  learner.SetFuzzyThrough(StateMachine::kFuzzyOpen);
  for (const Txn& t : leader.after_snap) {
    const Applied a = learner.Apply(t);
    EXPECT_TRUE(a.as_prepared) << t.zxid;
  }
  learner.SetFuzzyThrough(leader.zxid);  // the window closes at UPTODATE's commit
  EXPECT_EQ(learner.mismatches(), 0);
  EXPECT_EQ(learner.last_zxid(), leader.zxid);
  EXPECT_EQ(ShapeOf(learner.tree()), ShapeOf(leader.sm.tree()));
  EXPECT_EQ(learner.sessions(), leader.sm.sessions());
  EXPECT_EQ(learner.tree().Find("/eph"), nullptr);

  // After the window a txn is applied and checked as usual.
  Txn next = leader.prep.Prepare(testing::CreateReq("/d"), Ctx(kLater), ++leader.zxid, 1000);
  leader.Run(next);
  EXPECT_TRUE(learner.Apply(next).as_prepared);
  EXPECT_EQ(learner.mismatches(), 0);
  EXPECT_EQ(ShapeOf(learner.tree()), ShapeOf(leader.sm.tree()));
}

TEST(StateMachineLearner, OutcomesOtherThanRecordedAreToleratedAndCounted) {
  Leader leader;
  StateMachine learner;
  InstallFuzzySnapshot(leader.sm, &learner);  // no window: every txn is checked
  std::map<int64_t, bool> as_prepared;
  std::map<int64_t, proto::Err> first_err;
  for (const Txn& t : leader.after_snap) {
    const Applied a = learner.Apply(t);
    as_prepared[t.zxid] = a.as_prepared;
    first_err[t.zxid] = FirstApplyError(a.result);
  }
  EXPECT_EQ(first_err[6], proto::Err::kNodeExists);  // create /b
  EXPECT_EQ(first_err[7], proto::Err::kNoNode);      // delete /a/x
  // A setData txn carries the resulting version (the leader checked the
  // expected one): it applies as recorded over the stale node, as in ZooKeeper.
  EXPECT_EQ(first_err[8], proto::Err::kOk);
  EXPECT_TRUE(as_prepared[8]);
  EXPECT_EQ(first_err[9], proto::Err::kNodeExists);                       // the multi's create /m
  for (int64_t z : {6, 7, 9, 10, 12}) EXPECT_FALSE(as_prepared[z]) << z;  // 10: live session; 12: /c exists
  EXPECT_TRUE(as_prepared[11]);                                           // closeSession: nothing recorded to compare
  EXPECT_EQ(learner.mismatches(), 5);
  EXPECT_EQ(learner.last_zxid(), leader.zxid);
  // Nothing the txns did not already reflect changed.
  EXPECT_EQ(ShapeOf(learner.tree()), ShapeOf(leader.sm.tree()));
  EXPECT_EQ(learner.sessions(), leader.sm.sessions());
}

TEST(StateMachineLearner, AZxidThatDoesNotFollowIsCountedNotFatal) {
  StateMachine learner;
  learner.SetMode(ApplyMode::kLearner);
  Preparer prep(learner.tree(), PrepareOptions{});
  EXPECT_TRUE(learner.Apply(prep.Prepare(testing::CreateReq("/x"), Ctx(), 1, 1000)).as_prepared);
  EXPECT_FALSE(learner.Apply(prep.Prepare(testing::CreateReq("/y"), Ctx(), 3, 1000)).as_prepared);
  EXPECT_EQ(learner.mismatches(), 1);
  EXPECT_NE(learner.tree().Find("/y"), nullptr);
  EXPECT_EQ(learner.last_zxid(), 3);
}

TEST(StateMachineLearnerDeathTest, StrictModeStillStopsOnTheSameTxn) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Leader leader;
  EXPECT_DEATH(
      {
        StateMachine sm;
        InstallFuzzySnapshot(leader.sm, &sm);
        sm.SetMode(ApplyMode::kStrict);
        for (const Txn& t : leader.after_snap) sm.Apply(t);
      },
      "zxid 0x6 .* failed at apply with err -110");
}

}  // namespace
}  // namespace aviary::txn
