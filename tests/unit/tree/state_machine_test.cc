// txn::StateMachine: the session table follows createSession/closeSession,
// strict mode checks order and outcome, fuzzy mode converges over a tree
// that already reflects later txns.
#include "txn/state_machine.h"

#include <gtest/gtest.h>

#include "helpers.h"
#include "txn/prepare.h"

namespace aviary::txn {
namespace {

using proto::OpCode;

Txn CreateTxnAt(int64_t zxid, const std::string& path, int32_t parent_cversion = -1) {
  Txn t;
  t.zxid = zxid;
  t.time_ms = 1000 + zxid;
  t.type = OpCode::kCreate;
  t.op.type = OpCode::kCreate;
  CreateTxn c;
  c.path = path;
  c.acl = testing::Open();
  c.parent_cversion = parent_cversion;
  t.op.body = c;
  return t;
}

TEST(StateMachine, SessionTableFollowsCreateAndCloseSession) {
  StateMachine sm;
  Preparer p(sm.tree(), PrepareOptions{});
  Applied a = sm.Apply(p.PrepareCreateSession(0x42, 9000, 1, 5));
  EXPECT_EQ(a.session.kind, SessionChange::Kind::kCreated);
  EXPECT_EQ(a.session.session_id, 0x42);
  EXPECT_EQ(a.session.timeout_ms, 9000);
  EXPECT_EQ(sm.sessions().at(0x42), 9000);
  Applied c = sm.Apply(p.PrepareCloseSession(0x42, 2, 6));
  EXPECT_EQ(c.session.kind, SessionChange::Kind::kClosed);
  EXPECT_TRUE(sm.sessions().empty());
  EXPECT_EQ(sm.last_zxid(), 2);
}

TEST(StateMachine, FuzzyDeleteOfANodeWithChildrenRemovesTheSubtree) {
  StateMachine sm;
  sm.SetFuzzy(true);
  sm.Apply(CreateTxnAt(1, "/a"));
  sm.Apply(CreateTxnAt(2, "/a/b"));  // from the snapshot's "future"
  Txn del;
  del.zxid = 3;
  del.type = OpCode::kDelete;
  del.op.type = OpCode::kDelete;
  del.op.body = DeleteTxn{"/a"};
  sm.Apply(del);
  EXPECT_EQ(sm.tree().Find("/a"), nullptr);
  EXPECT_EQ(sm.tree().Find("/a/b"), nullptr);
  // A create replayed over a node that is already there is tolerated.
  sm.Apply(CreateTxnAt(4, "/c"));
  sm.Apply(CreateTxnAt(5, "/c"));
  EXPECT_NE(sm.tree().Find("/c"), nullptr);
}

TEST(StateMachineDeathTest, StrictModeStopsOnAnOutcomeOtherThanPrepared) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        StateMachine sm;
        sm.Apply(CreateTxnAt(1, "/x"));
        sm.Apply(CreateTxnAt(2, "/x"));  // prepare would never give this
      },
      "zxid 0x2 .* failed at apply with err -110");
}

TEST(StateMachineDeathTest, StrictModeStopsOnAZxidGap) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        StateMachine sm;
        sm.Apply(CreateTxnAt(1, "/x"));
        sm.Apply(CreateTxnAt(3, "/y"));
      },
      "applying zxid 0x3 out of order: the last applied is 0x1");
}

TEST(StateMachine, StrictModeAcceptsTheFirstZxidOfANewEpoch) {
  StateMachine sm;
  sm.Apply(CreateTxnAt(1, "/x"));
  sm.Apply(CreateTxnAt((int64_t{2} << 32) | 1, "/y"));
  EXPECT_EQ(sm.last_zxid(), (int64_t{2} << 32) | 1);
}

}  // namespace
}  // namespace aviary::txn
