// IdleTrim: the core's loop gives free heap back once writes stop after a
// burst (issue 10: RSS after a fill), never while they go on, not for a
// handful of txns, once per burst.
#include "server/heap_release.h"

#include <gtest/gtest.h>

namespace aviary::server {
namespace {

TEST(IdleTrim, OnceAfterABurstWhenWritesStop) {
  IdleTrim t;
  int64_t now = 1000;
  int64_t zxid = (int64_t{1} << 32) | 1;
  EXPECT_FALSE(t.Due(zxid, now));  // a new epoch counts as a burst: pending
  EXPECT_TRUE(t.pending());
  // Writes go on: never due meanwhile.
  for (int i = 0; i < 100; ++i) {
    zxid += 50;
    now += 100;
    EXPECT_FALSE(t.Due(zxid, now)) << i;
    EXPECT_TRUE(t.pending());
  }
  EXPECT_FALSE(t.Due(zxid, now + IdleTrim::kIdleMs - 1));
  EXPECT_TRUE(t.Due(zxid, now + IdleTrim::kIdleMs));
  EXPECT_FALSE(t.pending());
  // Once per burst.
  EXPECT_FALSE(t.Due(zxid, now + 10 * IdleTrim::kIdleMs));
  // A few txns: no trim.
  now += 20 * IdleTrim::kIdleMs;
  zxid += IdleTrim::kMinTxns - 1;
  EXPECT_FALSE(t.Due(zxid, now));
  EXPECT_FALSE(t.pending());
  EXPECT_FALSE(t.Due(zxid, now + 10 * IdleTrim::kIdleMs));
  // One more makes a burst.
  zxid += 1;
  now += 20 * IdleTrim::kIdleMs;
  EXPECT_FALSE(t.Due(zxid, now));
  EXPECT_TRUE(t.pending());
  EXPECT_TRUE(t.Due(zxid, now + IdleTrim::kIdleMs));
}

TEST(IdleTrim, ALowerZxidCountsAsABurst) {
  IdleTrim t;
  EXPECT_FALSE(t.Due(5000, 0));
  EXPECT_TRUE(t.Due(5000, IdleTrim::kIdleMs));
  EXPECT_FALSE(t.Due(10, IdleTrim::kIdleMs + 1));  // a truncated log / restored state
  EXPECT_TRUE(t.pending());
  EXPECT_TRUE(t.Due(10, 2 * IdleTrim::kIdleMs + 1));
  EXPECT_FALSE(t.Due(10, 100 * IdleTrim::kIdleMs));
}

TEST(IdleTrim, ReleaseFreeHeapIsSafeAnytime) {
  for (int i = 0; i < 3; ++i) ReleaseFreeHeap();
  SUCCEED();
}

}  // namespace
}  // namespace aviary::server
