// The quota gauges ZooKeeper 3.8 exports (QuotaMetricsUtils), per top-level
// namespace: quota_count_limit_per_namespace, quota_bytes_limit_per_namespace,
// quota_count_usage_per_namespace, quota_bytes_usage_per_namespace. As
// ZooKeeper computes them: every leaf under /zookeeper/quota named
// zookeeper_limits (limits) or zookeeper_stats (usage) is parsed as a
// StatsTrack and its value added to the namespace of the quota path
// ("/zookeeper/quota/a/b/zookeeper_limits" -> "a"); a limit is the hard
// limit when set (> -1), else the soft one (-1 when neither is).
// mntr prints them as zk_<namespace>_<name>; Prometheus as <name>{key="<namespace>"}.
// Pure function of the tree; call it on the tree's thread. Cost: the size of
// the /zookeeper/quota subtree (nothing else is visited).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "tree/data_tree.h"

namespace aviary::tree {

struct QuotaFigures {
  std::map<std::string, int64_t> count_limit;  // quota_count_limit_per_namespace
  std::map<std::string, int64_t> bytes_limit;  // quota_bytes_limit_per_namespace
  std::map<std::string, int64_t> count_usage;  // quota_count_usage_per_namespace
  std::map<std::string, int64_t> bytes_usage;  // quota_bytes_usage_per_namespace
};

QuotaFigures CollectQuotaFigures(const DataTree& tree);

}  // namespace aviary::tree
