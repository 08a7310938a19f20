#include "tree/quota_metrics.h"

#include <vector>

namespace aviary::tree {
namespace {

int64_t Limit(int64_t hard, int64_t soft) { return hard > -1 ? hard : soft; }

void Collect(const std::string& path, const Node& n, QuotaFigures* out) {
  const std::string limits_end = "/" + std::string(kQuotaLimitNode);
  const std::string stats_end = "/" + std::string(kQuotaStatNode);
  const bool limits = path.ends_with(limits_end);
  if (!limits && !path.ends_with(stats_end)) return;
  const std::optional<std::string> ns = TopNamespace(std::string_view(path).substr(kQuotaZookeeper.size()));
  if (!ns || n.data_null) return;
  const StatsTrack st(n.data);
  if (limits) {
    (*out).count_limit[*ns] += Limit(st.count_hard_limit(), st.count());
    (*out).bytes_limit[*ns] += Limit(st.byte_hard_limit(), st.bytes());
  } else {
    (*out).count_usage[*ns] += st.count();
    (*out).bytes_usage[*ns] += st.bytes();
  }
}

}  // namespace

QuotaFigures CollectQuotaFigures(const DataTree& tree) {
  QuotaFigures out;
  std::vector<std::string> stack{std::string(kQuotaZookeeper)};
  while (!stack.empty()) {
    std::string p = std::move(stack.back());
    stack.pop_back();
    const Node* n = tree.Find(p);
    if (n == nullptr) continue;
    if (n->children().empty()) {
      Collect(p, *n, &out);
      continue;
    }
    for (std::string_view c : n->children()) stack.push_back(p + "/" + std::string(c));
  }
  return out;
}

}  // namespace aviary::tree
