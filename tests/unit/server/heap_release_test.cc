// IdleTrim: the core's loop gives free heap back once writes stop after a
// burst (issue 10: RSS after a fill), never while they go on, not for a
// handful of txns, once per burst.
#include "server/heap_release.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

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

// Two malloc arenas unless the environment chose (then glibc's reading of
// MALLOC_ARENA_MAX holds). Sets the limit for this test process too
// (harmless: it only stops new arenas from being made).
TEST(MallocArenas, TwoUnlessTheEnvironmentSetsIt) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "ASan's allocator replaces glibc's malloc: its mallopt() takes no M_ARENA_MAX";
#elif defined(__GLIBC__)
  const char* was = std::getenv("MALLOC_ARENA_MAX");
  const std::optional<std::string> saved = was == nullptr ? std::nullopt : std::optional<std::string>(was);
  ASSERT_EQ(setenv("MALLOC_ARENA_MAX", "4", 1), 0);
  EXPECT_FALSE(LimitMallocArenas());
  ASSERT_EQ(unsetenv("MALLOC_ARENA_MAX"), 0);
  EXPECT_TRUE(LimitMallocArenas());
  void* p = std::malloc(100);  // malloc still works
  EXPECT_NE(p, nullptr);
  std::free(p);
  if (saved) setenv("MALLOC_ARENA_MAX", saved->c_str(), 1);
#else
  EXPECT_FALSE(LimitMallocArenas());
#endif
}

}  // namespace
}  // namespace aviary::server
