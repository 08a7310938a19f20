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

}  // namespace
}  // namespace aviary::server
