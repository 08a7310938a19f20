// DataTree: quota upkeep (ZooKeeper's DataTree.updateQuotaStat,
// updateQuotaForPath, setupQuota and the pTrie changes in createNode /
// deleteNode).
#include <vector>

#include "base/log.h"
#include "tree/data_tree.h"
#include "tree/path.h"

namespace aviary::tree {

void DataTree::QuotaAfterCreate(std::string_view path, int64_t bytes) {
  const std::string_view parent = ParentOf(path);
  const std::string_view child = BaseName(path);
  if (parent.starts_with(kQuotaZookeeper)) {
    // Quotas.trimQuotaPath: "/zookeeper/quota/a/b" -> "/a/b".
    const std::string_view real = parent.substr(kQuotaZookeeper.size());
    if (child == kQuotaLimitNode) quotas_.Add(real);
    if (child == kQuotaStatNode) RecountQuota(real);
  }
  if (quotas_.empty()) return;
  if (std::optional<std::string> prefix = quotas_.MaxPrefix(path)) UpdateQuotaStat(*prefix, bytes, 1);
}

void DataTree::QuotaAfterDelete(std::string_view path, int64_t bytes) {
  const std::string_view parent = ParentOf(path);
  // ZooKeeper tests parent.startsWith("/zookeeper") and trims 16 chars;
  // shorter parents (and "/zookeeper/quota" itself) make it throw there.
  if (BaseName(path) == kQuotaLimitNode && parent.starts_with(kProcZookeeper) &&
      parent.size() > kQuotaZookeeper.size()) {
    quotas_.Remove(parent.substr(kQuotaZookeeper.size()));
  }
  if (quotas_.empty()) return;
  if (std::optional<std::string> prefix = quotas_.MaxPrefix(path)) UpdateQuotaStat(*prefix, -bytes, -1);
}

void DataTree::UpdateQuotaStat(const std::string& prefix, int64_t bytes_diff, int64_t count_diff) {
  const std::string stat_path = QuotaStatPath(prefix);
  Node* stat = Mutable(stat_path);
  if (stat == nullptr) {
    AV_LOG(kError, "Missing node for stat {}", stat_path);
    return;
  }
  StatsTrack st(stat->data);
  st.Set("count", st.count() + count_diff);
  st.Set("bytes", st.bytes() + bytes_diff);
  stat->data.SetIn(arena_, stat->name(), st.ToString());
  stat->data_null = false;
}

// DataTree.updateQuotaForPath: counts `path` and everything below it (as
// ZooKeeper looks it up: "" is the root) into its stats node.
void DataTree::RecountQuota(std::string_view path) {
  int64_t count = 0;
  int64_t bytes = 0;
  if (const Node* start = Find(path)) {
    std::vector<const Node*> stack{start};
    while (!stack.empty()) {
      const Node* n = stack.back();
      stack.pop_back();
      ++count;
      bytes += static_cast<int64_t>(n->data.size());
      for (auto it = n->children().begin(); it != n->children().end(); ++it) stack.push_back(it.node());
    }
  }
  const std::string stat_path = QuotaStatPath(path);
  Node* stat = Mutable(stat_path);
  if (stat == nullptr) {
    AV_LOG(kWarn, "Missing quota stat node {}", stat_path);
    return;
  }
  StatsTrack st;
  st.Set("count", count);
  st.Set("bytes", bytes);
  stat->data.SetIn(arena_, stat->name(), st.ToString());
  stat->data_null = false;
}

void DataTree::RebuildQuotas() {
  quotas_.Clear();
  const std::string end = "/" + std::string(kQuotaLimitNode);
  std::vector<std::string> stack{std::string(kQuotaZookeeper)};
  while (!stack.empty()) {
    std::string p = std::move(stack.back());
    stack.pop_back();
    const Node* n = Find(p);
    if (n == nullptr) continue;
    if (!n->children().empty()) {
      for (std::string_view c : n->children()) stack.push_back(p + "/" + std::string(c));
      continue;
    }
    // traverseNode: a leaf named zookeeper_limits; the real path is what
    // lies between /zookeeper/quota and the first "/zookeeper_limits".
    if (!p.ends_with(end)) continue;
    const std::string real = p.substr(kQuotaZookeeper.size(), p.find(end) - kQuotaZookeeper.size());
    RecountQuota(real);
    quotas_.Add(real);
  }
}

std::optional<StatsTrack> DataTree::QuotaLimits(std::string_view prefix) const {
  const Node* n = Find(QuotaLimitPath(prefix));
  if (n == nullptr) return std::nullopt;
  return StatsTrack(n->data);
}

std::optional<StatsTrack> DataTree::QuotaStats(std::string_view prefix) const {
  const Node* n = Find(QuotaStatPath(prefix));
  if (n == nullptr) return std::nullopt;
  return StatsTrack(n->data);
}

}  // namespace aviary::tree
