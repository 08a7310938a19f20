// The core stops (AV_CHECK) instead of serving a state that diverged from
// what it logged (issue 6, item 19): a committed txn that fails at apply
// although prepare validated it, txns committed out of zxid order, and a
// committed write that is not the head of its session's queue. Each case
// plays a corrupt commit stage by tampering with held txns.
#include <gtest/gtest.h>

#include "core_harness.h"

namespace aviary::server::testing {
namespace {

using proto::OpCode;

constexpr int64_t kT0 = 100000;

// A session on connection 1 with /a created, and two more writes held.
void TwoHeldWrites(CoreHarness& h) {
  h.Handshake(1, kT0);
  h.Send(1, 1, OpCode::kCreate, CreateBody("/a", "x"));
  h.Run(kT0 + 1);
  h.held().Release();
  h.Run(kT0 + 2);
  h.Send(1, 2, OpCode::kCreate, CreateBody("/a/b", "y"));
  h.Send(1, 3, OpCode::kSetData, SetDataBody("/a", "z"));
  h.Run(kT0 + 3);
  ASSERT_EQ(h.held().held(), 2u);
}

TEST(CoreInvariants, UntamperedHeldWritesApply) {
  CoreHarness h(/*held=*/true);
  TwoHeldWrites(h);
  h.held().Release();
  h.Run(kT0 + 4);
  EXPECT_EQ(h.core().last_zxid(), 4);
  ASSERT_NE(h.core().tree().Find("/a/b"), nullptr);
}

TEST(CoreInvariantsDeathTest, TxnFailingAtApplyStops) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        CoreHarness h(/*held=*/true);
        TwoHeldWrites(h);
        // The create was validated for /a/b; it now names a node whose
        // parent does not exist, so apply answers NONODE.
        std::get<txn::CreateTxn>(h.held().pending()[0].op.body).path = "/missing/b";
        h.held().Release();
        h.Run(kT0 + 4);
      },
      "zxid 0x3 \\(op 1, session 0x[0-9a-f]+\\) failed at apply with err -101");
}

TEST(CoreInvariantsDeathTest, MultiOpFailingAtApplyStops) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        CoreHarness h(/*held=*/true);
        TwoHeldWrites(h);
        txn::Txn& t = h.held().pending()[1];
        t.type = OpCode::kMulti;  // a multi whose one op no longer applies
        t.multi = {t.op};
        std::get<txn::SetDataTxn>(t.multi[0].body).path = "/nowhere";
        h.held().Release();
        h.Run(kT0 + 4);
      },
      "zxid 0x4 \\(op 14, .*\\) failed at apply with err -101");
}

TEST(CoreInvariantsDeathTest, CommitOutOfZxidOrderStops) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        CoreHarness h(/*held=*/true);
        TwoHeldWrites(h);
        std::swap(h.held().pending()[0], h.held().pending()[1]);
        h.held().Release();
        h.Run(kT0 + 4);
      },
      "applying zxid 0x4 out of order: the last applied is 0x2");
}

TEST(CoreInvariantsDeathTest, SkippedZxidStops) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        CoreHarness h(/*held=*/true);
        TwoHeldWrites(h);
        h.held().pending().pop_front();  // zxid 3 lost by the commit stage
        h.held().Release();
        h.Run(kT0 + 4);
      },
      "applying zxid 0x4 out of order: the last applied is 0x2");
}

TEST(CoreInvariantsDeathTest, CommittedWriteNotAtTheHeadOfItsSessionStops) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        CoreHarness h(/*held=*/true);
        TwoHeldWrites(h);
        h.held().pending()[0].cxid = 3;  // claims to answer the second write
        h.held().Release();
        h.Run(kT0 + 4);
      },
      "pipeline order violated: committed zxid 0x3 \\(cxid 3\\) is not the head of session 0x[0-9a-f]+'s queue "
      "\\(head: write zxid 0x3 xid 2\\)");
}

}  // namespace
}  // namespace aviary::server::testing
