#include "metrics/metric.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace aviary::metrics {
namespace {

TEST(Counter, AddsFromManyThreads) {
  Counter c;
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&c] {
      for (int i = 0; i < 10000; ++i) c.Add();
    });
  }
  for (auto& t : ts) t.join();
  c.Add(5);
  EXPECT_EQ(c.Get(), 40005);
}

TEST(Summary, EmptyReadsZeroAsZooKeeper) {
  Summary s(Detail::kBasic);
  Summary::Values v = s.Read();
  EXPECT_EQ(v.count, 0);
  EXPECT_EQ(v.min, 0);
  EXPECT_EQ(v.max, 0);
  EXPECT_EQ(v.avg, 0.0);
  EXPECT_TRUE(s.Quantiles({0.5}).empty());
}

TEST(Summary, AvgMinMaxCountSum) {
  Summary s(Detail::kBasic);
  for (int64_t v : {3, 11, 6, 6}) s.Add(v);
  Summary::Values v = s.Read();
  EXPECT_EQ(v.count, 4);
  EXPECT_EQ(v.sum, 26);
  EXPECT_EQ(v.min, 3);
  EXPECT_EQ(v.max, 11);
  EXPECT_DOUBLE_EQ(v.avg, 6.5);
}

TEST(Summary, QuantilesNearestRank) {
  Summary s(Detail::kAdvanced);
  for (int64_t v = 100; v >= 1; --v) s.Add(v);  // order must not matter
  std::vector<int64_t> q = s.Quantiles({0.5, 0.9, 0.99, 1.0});
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0], 50);
  EXPECT_EQ(q[1], 90);
  EXPECT_EQ(q[2], 99);
  EXPECT_EQ(q[3], 100);
}

TEST(Summary, QuantilesCoverOnlyTheRecentWindow) {
  Summary s(Detail::kAdvanced);
  for (size_t i = 0; i < Summary::kWindow; ++i) s.Add(1000);
  for (size_t i = 0; i < Summary::kWindow; ++i) s.Add(1);
  EXPECT_EQ(s.Quantiles({0.99})[0], 1);
  EXPECT_EQ(s.Read().max, 1000);  // min/max/count/sum are since start, as ZooKeeper's
  EXPECT_EQ(s.Read().count, static_cast<int64_t>(2 * Summary::kWindow));
}

TEST(Summary, ConcurrentWritersKeepTotals) {
  Summary s(Detail::kBasic);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&s, t] {
      for (int i = 0; i < 5000; ++i) s.Add(t + 1);
    });
  }
  for (auto& t : ts) t.join();
  Summary::Values v = s.Read();
  EXPECT_EQ(v.count, 20000);
  EXPECT_EQ(v.sum, 5000 * (1 + 2 + 3 + 4));
  EXPECT_EQ(v.min, 1);
  EXPECT_EQ(v.max, 4);
}

// A one-writer summary (Writers::kOne: load + store, no read-modify-write)
// read by another thread while its writer adds: every read is whole (sum
// matches some prefix's shape), count and sum never go back, and the totals
// come out exact.
TEST(Summary, OneWriterReadWhileWritten) {
  for (Writers w : {Writers::kOne, Writers::kAny}) {
    Summary s(Detail::kAdvanced, w);
    constexpr int64_t kN = 200000;
    std::atomic<bool> done{false};
    std::thread writer([&] {
      for (int64_t i = 1; i <= kN; ++i) s.Add(i % 100 + 1);
      done.store(true);
    });
    int64_t last_count = 0, last_sum = 0;
    int reads = 0;
    while (!done.load() || reads == 0) {
      Summary::Values v = s.Read();
      EXPECT_GE(v.count, last_count);
      EXPECT_GE(v.sum, last_sum);
      EXPECT_LE(v.count, kN);
      if (v.count > 0) {
        EXPECT_GE(v.min, 1);
        EXPECT_LE(v.max, 100);
        EXPECT_LE(v.min, v.max);
      }
      // kAny takes a ring slot (next_) before it stores into it, so a reader
      // in the writer's first lap may read a slot not yet written (0); kOne
      // publishes the slot after storing it.
      const int64_t lowest = w == Writers::kOne ? 1 : 0;
      for (int64_t q : s.Quantiles({0.5, 0.99})) {
        EXPECT_GE(q, lowest);
        EXPECT_LE(q, 100);
      }
      last_count = v.count;
      last_sum = v.sum;
      ++reads;
    }
    writer.join();
    Summary::Values v = s.Read();
    int64_t sum = 0;
    for (int64_t i = 1; i <= kN; ++i) sum += i % 100 + 1;
    EXPECT_EQ(v.count, kN);
    EXPECT_EQ(v.sum, sum);
    EXPECT_EQ(v.min, 1);
    EXPECT_EQ(v.max, 100);
    EXPECT_EQ(s.Quantiles({1.0})[0], 100);
  }
}

TEST(Summary, SetOneWriterBeforeUse) {
  Summary s(Detail::kBasic);
  EXPECT_EQ(s.writers(), Writers::kAny);
  s.SetOneWriter();
  EXPECT_EQ(s.writers(), Writers::kOne);
  s.Add(5);
  s.Add(3);
  Summary::Values v = s.Read();
  EXPECT_EQ(v.count, 2);
  EXPECT_EQ(v.sum, 8);
  EXPECT_EQ(v.min, 3);
  EXPECT_EQ(v.max, 5);
}

TEST(SummarySet, EntriesHaveOneWriter) {
  SummarySet set(Detail::kBasic);
  EXPECT_EQ(set.Get("a").writers(), Writers::kOne);
}

TEST(SummarySet, OneSummaryPerKeyInCreationOrder) {
  SummarySet set(Detail::kBasic);
  set.Get("b").Add(1);
  set.Get("a").Add(2);
  set.Get("b").Add(3);
  auto e = set.Entries();
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].first, "b");
  EXPECT_EQ(e[0].second->Read().sum, 4);
  EXPECT_EQ(e[1].first, "a");
  EXPECT_EQ(e[1].second->Read().count, 1);
}

TEST(SummarySet, KeysAreBounded) {
  SummarySet set(Detail::kBasic);
  for (size_t i = 0; i < SummarySet::kMaxKeys + 50; ++i) set.Get("k" + std::to_string(i)).Add(1);
  auto e = set.Entries();
  ASSERT_EQ(e.size(), SummarySet::kMaxKeys + 1);
  EXPECT_EQ(e.back().first, SummarySet::kOverflowKey);
  EXPECT_EQ(e.back().second->Read().count, 50);
}

}  // namespace
}  // namespace aviary::metrics
