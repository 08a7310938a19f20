// admin/mntr.h: mntr's typed pairs (also the AdminServer's "monitor").
#include "admin/mntr.h"

#include <gtest/gtest.h>

#include "admin/four_letter.h"

namespace aviary::admin {
namespace {

TEST(Mntr, OrderTypesAndEnsembleKeys) {
  ServerSnapshot s;
  s.full_version = "3.8.0-aviary";
  s.server_state = "leader";
  s.peer_state = "leading - broadcast";
  s.latency_avg_ms = 1.23456;
  s.node_count = 7;
  s.extra_metrics = {{"learners", "3"}, {"quorum_size", "3"}, {"ratio", "0.5"}};
  s.registry_metrics = {{"commit_count", int64_t{4}}, {"avg_fsynctime", 2.5}, {"learners", int64_t{99}}};
  std::vector<metrics::Sample> p = MntrSamples(s);
  ASSERT_GE(p.size(), 5u);
  EXPECT_EQ(p[0].name, "version");
  EXPECT_EQ(p[1].name, "server_state");
  EXPECT_EQ(p[2].name, "peer_state");
  EXPECT_EQ(std::get<std::string>(p[2].value), "leading - broadcast");
  auto find = [&p](const std::string& n) -> const metrics::Sample* {
    for (const auto& x : p) {
      if (x.name == n) return &x;
    }
    return nullptr;
  };
  ASSERT_NE(find("znode_count"), nullptr);
  EXPECT_EQ(std::get<int64_t>(find("znode_count")->value), 7);
  EXPECT_DOUBLE_EQ(std::get<double>(find("avg_latency")->value), 1.2346);
  EXPECT_EQ(std::get<int64_t>(find("learners")->value), 3);  // the gauge, not the registry's duplicate
  EXPECT_DOUBLE_EQ(std::get<double>(find("ratio")->value), 0.5);
  EXPECT_EQ(std::get<int64_t>(find("commit_count")->value), 4);
  EXPECT_EQ(find("observer_master_id"), nullptr);  // only on an observer
  int learners = 0;
  for (const auto& x : p) learners += x.name == "learners";
  EXPECT_EQ(learners, 1);
  // The text form, as mntr prints it.
  std::string text = RenderFourLetter("mntr", s, config::ParseFourLetterWhitelist("*", nullptr));
  EXPECT_NE(text.find("zk_avg_latency\t1.2346\n"), std::string::npos) << text;
  EXPECT_NE(text.find("zk_avg_fsynctime\t2.5\n"), std::string::npos);
  EXPECT_NE(text.find("zk_peer_state\tleading - broadcast\n"), std::string::npos);
  EXPECT_NE(text.find("zk_connection_drop_probability\t0.0\n"), std::string::npos);
}

TEST(Mntr, GaugesAreNumericAndNamedAsZooKeeper) {
  ServerSnapshot s;
  s.extra_metrics = {{"learner_apply_mismatches", "0"}};
  for (const metrics::Sample& g : MntrGauges(s)) {
    EXPECT_FALSE(std::holds_alternative<std::string>(g.value)) << g.name;
  }
  EXPECT_TRUE(IsZooKeeperGauge("znode_count"));
  EXPECT_TRUE(IsZooKeeperGauge("quorum_size"));
  EXPECT_FALSE(IsZooKeeperGauge("learner_apply_mismatches"));
  EXPECT_FALSE(IsZooKeeperGauge("followers"));
}

}  // namespace
}  // namespace aviary::admin
