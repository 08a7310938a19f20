#include <gtest/gtest.h>

#include <set>

#include "metrics/prometheus_text.h"
#include "metrics/registry.h"
#include "metrics/server_metrics.h"

namespace aviary::metrics {
namespace {

std::string ValueOf(const std::vector<Sample>& s, const std::string& name) {
  for (const Sample& x : s) {
    if (x.name == name) return FormatValue(x.value);
  }
  return "<missing>";
}

TEST(FormatValue, AsJavaPrintsThem) {
  EXPECT_EQ(FormatValue(int64_t{42}), "42");
  EXPECT_EQ(FormatValue(0.0), "0.0");
  EXPECT_EQ(FormatValue(6.5), "6.5");
  EXPECT_EQ(FormatValue(std::string("leader")), "leader");
}

TEST(Registry, MntrLinesAsZooKeeperDefaultProvider) {
  Registry r;
  r.AddCounter("commit_count").Add(3);
  r.AddSummary("fsynctime", Detail::kBasic).Add(4);
  Summary& lat = r.AddSummary("readlatency", Detail::kAdvanced);
  for (int v : {1, 2, 3}) lat.Add(v);
  r.AddSummarySet("read_per_namespace", Detail::kBasic).Get("a").Add(70);
  r.AddCounter("aviary_private").Add(1);
  std::vector<Sample> s = r.MntrSamples();
  EXPECT_EQ(ValueOf(s, "commit_count"), "3");
  EXPECT_EQ(ValueOf(s, "avg_fsynctime"), "4.0");
  EXPECT_EQ(ValueOf(s, "cnt_fsynctime"), "1");
  EXPECT_EQ(ValueOf(s, "p50_fsynctime"), "<missing>");  // BASIC: no percentiles
  EXPECT_EQ(ValueOf(s, "avg_readlatency"), "2.0");
  EXPECT_EQ(ValueOf(s, "p50_readlatency"), "2");
  EXPECT_EQ(ValueOf(s, "p999_readlatency"), "3");
  EXPECT_EQ(ValueOf(s, "sum_a_read_per_namespace"), "70");
  EXPECT_EQ(ValueOf(s, "aviary_private"), "<missing>");
  // Counters first, then BASIC summaries, then ADVANCED, then sets.
  EXPECT_EQ(s.front().name, "commit_count");
  EXPECT_EQ(s.back().name, "sum_a_read_per_namespace");
}

TEST(Registry, SameNameTwiceIsTheSameMetric) {
  Registry r;
  r.AddCounter("x").Add(1);
  r.AddCounter("x").Add(1);
  EXPECT_EQ(r.Entries().size(), 1u);
  EXPECT_EQ(r.Entries()[0].counter->Get(), 2);
}

TEST(Prometheus, TypesNamesAndQuantilesAsZooKeeperProvider) {
  Registry r;
  r.AddCounter("commit_count").Add(2);
  r.AddSummary("fsynctime", Detail::kBasic);  // empty: NaN quantile, zero count
  Summary& lat = r.AddSummary("updatelatency", Detail::kAdvanced);
  for (int v = 1; v <= 10; ++v) lat.Add(v);
  r.AddSummarySet("write_per_namespace", Detail::kBasic).Get("a\"b").Add(3);
  std::string text = RenderPrometheus(r, {{"znode_count", 5, ""}, {"commit_count", 9, ""}});
  EXPECT_NE(text.find("# TYPE znode_count gauge\nznode_count 5.0\n"), std::string::npos) << text;
  // A gauge of the same name wins over the registry's metric.
  EXPECT_NE(text.find("commit_count 9.0\n"), std::string::npos);
  EXPECT_EQ(text.find("# TYPE commit_count counter"), std::string::npos);
  EXPECT_NE(text.find("# TYPE fsynctime summary\nfsynctime{quantile=\"0.5\"} NaN\nfsynctime_count 0.0\n"
                      "fsynctime_sum 0.0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("updatelatency{quantile=\"0.9\"} 9.0\n"), std::string::npos);
  EXPECT_NE(text.find("updatelatency{quantile=\"0.99\"} 10.0\n"), std::string::npos);
  EXPECT_NE(text.find("updatelatency_sum 55.0\n"), std::string::npos);
  EXPECT_NE(text.find("write_per_namespace{key=\"a\\\"b\",quantile=\"0.5\"} 3.0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("write_per_namespace_count{key=\"a\\\"b\"} 1.0\n"), std::string::npos) << text;
}

TEST(ServerMetrics, RegistersZooKeeperNamesWithoutJvmOnes) {
  Registry r;
  ServerMetrics m(r);
  std::set<std::string> names;
  for (const Entry& e : r.Entries()) {
    EXPECT_TRUE(names.insert(e.name).second) << "twice: " << e.name;
  }
  for (const char* n : {"fsynctime", "readlatency", "updatelatency", "election_time", "commit_count", "proposal_count",
                        "learner_commit_received_count", "snapshottime", "watch_bytes",
                        "requests_not_forwarded_to_commit_processor", "aviary_request_latency_us"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
  EXPECT_FALSE(names.count("jvm_pause_time_ms"));
  EXPECT_FALSE(names.count("netty_queued_buffer_capacity"));
  m.fsync_time.Add(7);
  EXPECT_EQ(ValueOf(r.MntrSamples(), "max_fsynctime"), "7");
}

}  // namespace
}  // namespace aviary::metrics
