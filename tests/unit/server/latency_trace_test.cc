// server/latency_trace: the per-phase histograms behind
// AVIARY_LATENCY_TRACE (off unless that variable is set).
#include "server/latency_trace.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace aviary::server {
namespace {

TEST(LatencyTrace, BucketsBoundEveryValueWithinAThirtySecond) {
  for (int64_t v = 0; v < 5'000'000; v = v < 100 ? v + 1 : v + v / 7 + 1) {
    const int b = trace::BucketOf(v);
    const int64_t upper = trace::BucketUpperUs(b);
    ASSERT_GE(upper, v) << v;
    ASSERT_LE(upper - v, v / 32 + 1) << v;
    if (b > 0) {
      ASSERT_LT(trace::BucketUpperUs(b - 1), v) << v;  // v is not in the bucket below
    }
  }
  EXPECT_EQ(trace::BucketOf(-5), 0);
  EXPECT_EQ(trace::BucketUpperUs(trace::BucketOf(int64_t{1} << 50)), (int64_t{1} << 41) - 1);  // huge: the last bucket
}

TEST(LatencyTrace, OffRecordsNothing) {
  trace::ResetForTest(false);
  trace::Record(trace::kFsync, 100);
  EXPECT_EQ(trace::Count(trace::kFsync), 0);
}

TEST(LatencyTrace, PercentilesOfKnownSamples) {
  trace::ResetForTest(true);
  for (int i = 1; i <= 1000; ++i) trace::Record(trace::kCoreWait, i);  // 1..1000 us
  trace::Record(trace::kGroupWait, 7);
  EXPECT_EQ(trace::Count(trace::kCoreWait), 1000);
  auto near = [](int64_t got, int64_t want) { return got >= want && got <= want + want / 32 + 1; };
  EXPECT_TRUE(near(trace::PercentileUs(trace::kCoreWait, 0.5), 500)) << trace::PercentileUs(trace::kCoreWait, 0.5);
  EXPECT_TRUE(near(trace::PercentileUs(trace::kCoreWait, 0.99), 990)) << trace::PercentileUs(trace::kCoreWait, 0.99);
  EXPECT_EQ(trace::PercentileUs(trace::kCoreWait, 1.0), 1000);  // capped at the max
  EXPECT_EQ(trace::PercentileUs(trace::kGroupWait, 0.5), 7);
  EXPECT_EQ(trace::PercentileUs(trace::kFsync, 0.5), 0);  // no samples
  const std::string json = trace::Json();
  EXPECT_NE(json.find("\"core_wait\": {\"count\": 1000, \"sum_us\": 500500, \"max_us\": 1000"), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"group_wait\": {\"count\": 1, \"sum_us\": 7, \"max_us\": 7, \"buckets\": [[7, 1]]}"),
            std::string::npos)
      << json;
  trace::ResetForTest(false);
}

TEST(LatencyTrace, ConcurrentRecordsAllCount) {
  trace::ResetForTest(true);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([] {
      for (int i = 0; i < 10000; ++i) trace::Record(trace::kPass, i % 300);
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(trace::Count(trace::kPass), 40000);
  trace::ResetForTest(false);
}

TEST(LatencyTrace, StartWritesTheFileNamedByTheEnvironment) {
  const std::string path = ::testing::TempDir() + "latency_trace_test.json";
  std::remove(path.c_str());
  trace::ResetForTest(false);
  ::setenv("AVIARY_LATENCY_TRACE", path.c_str(), 1);
  trace::Start();
  EXPECT_TRUE(trace::On());
  trace::Record(trace::kFsync, 250);
  trace::Stop();  // writes the file a last time
  ::unsetenv("AVIARY_LATENCY_TRACE");
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  EXPECT_NE(text.str().find("\"fsync\": {\"count\": 1, \"sum_us\": 250"), std::string::npos) << text.str();
  trace::ResetForTest(false);
  std::remove(path.c_str());
}

// The write split: the parts between the marks add up to w_total, and the
// bucket table and the slow-write list say what the slow ones spent.
TEST(LatencyTrace, WriteSplitAddsUpToTheTotal) {
  trace::ResetForTest(true);
  trace::SetSlowWriteUsForTest(1000);
  auto write = [](int64_t zxid, int64_t r, int64_t write_us) {
    trace::MarkWrite(zxid, trace::kMarkProposed, r + 50);
    trace::MarkWrite(zxid, trace::kMarkSubmitted, r + 100);
    trace::MarkWrite(zxid, trace::kMarkSubmitted, r + 120);  // a later pass end: the first one counts
    trace::MarkWrite(zxid, trace::kMarkWriteStart, r + 350);
    trace::MarkWrite(zxid, trace::kMarkWritten, r + 350 + write_us);
    trace::MarkWrite(zxid, trace::kMarkReleased, r + 400 + write_us);
    trace::MarkWrite(zxid, trace::kMarkTook, r + 450 + write_us);
    trace::WriteReplied(zxid, r, r + 550 + write_us);
  };
  write(5, 10'000, 500);
  write(6, 10'000, 3000);
  trace::WritesDelivered(10'000 + 3000 + 650);
  EXPECT_EQ(trace::Count(trace::kWTotal), 2);
  EXPECT_EQ(trace::PercentileUs(trace::kWCore, 1.0), 50);
  EXPECT_EQ(trace::PercentileUs(trace::kWPass, 1.0), 50);
  EXPECT_EQ(trace::PercentileUs(trace::kWQueue, 1.0), 250);
  EXPECT_EQ(trace::PercentileUs(trace::kWWrite, 1.0), 3000);
  EXPECT_EQ(trace::PercentileUs(trace::kWOrder, 1.0), 50);
  EXPECT_EQ(trace::PercentileUs(trace::kWWake, 1.0), 50);
  EXPECT_EQ(trace::PercentileUs(trace::kWApply, 1.0), 100);
  // Write 5's reply waited in the pass until write 6's was queued too.
  EXPECT_EQ(trace::PercentileUs(trace::kWDeliver, 1.0), 2600);
  EXPECT_EQ(trace::PercentileUs(trace::kWTotal, 1.0), 3650);
  const auto slow = trace::SlowWrites();
  ASSERT_EQ(slow.size(), 2u);     // both took >= 1000 us
  EXPECT_EQ(slow[1][0], 10'000);  // R
  EXPECT_EQ(slow[1][1 + trace::kWWrite - trace::kWCore], 3000);
  EXPECT_EQ(slow[1][trace::kSplitParts + 1], 3650);
  const std::string json = trace::Json();
  EXPECT_NE(json.find("\"write_split\": {\"parts\": [\"w_core\", \"w_pass\", \"w_queue\", \"w_write\", \"w_order\", "
                      "\"w_wake\", \"w_apply\", \"w_deliver\"], \"rows\": [["),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"slow_writes\": {\"min_us\": 1000, \"noted\": 2, \"rows\": [[10000, 50, 50, 250, 500, 50"),
            std::string::npos)
      << json;
  trace::ResetForTest(false);
}

TEST(LatencyTrace, WriteWithoutAllItsMarksIsNotSplit) {
  trace::ResetForTest(true);
  trace::MarkWrite(7, trace::kMarkProposed, 100);
  trace::MarkWrite(7, trace::kMarkSubmitted, 110);
  trace::WriteReplied(7, 90, 200);  // never written: not the durable path
  // A later txn in the same ring slot replaces the earlier one's marks.
  trace::MarkWrite(9, trace::kMarkProposed, 100);
  trace::MarkWrite(9 + (int64_t{1} << 15), trace::kMarkProposed, 150);
  for (int m = trace::kMarkSubmitted; m < trace::kMarkCount; ++m) {
    trace::MarkWrite(9, static_cast<trace::Mark>(m), 300);
  }
  trace::WriteReplied(9, 90, 400);
  trace::WritesDelivered(500);
  EXPECT_EQ(trace::Count(trace::kWTotal), 0);
  EXPECT_TRUE(trace::SlowWrites().empty());  // AVIARY_LATENCY_TRACE_SLOW_US unset: none noted
  trace::ResetForTest(false);
}

}  // namespace
}  // namespace aviary::server
