// Quota upkeep in the tree (StatsTrack, QuotaIndex, stats rewrites,
// RebuildQuotas) and the quota gauges.
#include "tree/quota.h"

#include <gtest/gtest.h>

#include "helpers.h"
#include "tree/data_tree.h"
#include "tree/quota_metrics.h"

namespace aviary::tree {
namespace {

using proto::Err;
using txn::testing::Open;

// What zkCli's setquota writes, with ordinary creates.
void SetQuota(DataTree& t, const std::string& path, const std::string& limits, int64_t* zxid) {
  std::string q = std::string(kQuotaZookeeper);
  size_t i = 1;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    q += "/" + path.substr(i, j - i);
    t.CreateNode(q, "", Open(), NodeKind::kPersistent, 0, 0, -1, ++*zxid, 1);
    i = j + 1;
  }
  ASSERT_EQ(t.CreateNode(q + "/zookeeper_limits", limits, Open(), NodeKind::kPersistent, 0, 0, -1, ++*zxid, 1),
            Err::kOk);
  ASSERT_EQ(
      t.CreateNode(q + "/zookeeper_stats", "count=0,bytes=0", Open(), NodeKind::kPersistent, 0, 0, -1, ++*zxid, 1),
      Err::kOk);
}

void Create(DataTree& t, const std::string& p, const std::string& data, int64_t* zxid) {
  ASSERT_EQ(t.CreateNode(p, data, Open(), NodeKind::kPersistent, 0, 0, -1, ++*zxid, 1), Err::kOk) << p;
}

std::string Stats(const DataTree& t, const std::string& p) {
  const Node* n = t.Find(QuotaStatPath(p));
  return n == nullptr ? "<none>" : std::string(n->data);
}

TEST(StatsTrack, ParsesAndPrintsAsZooKeeper) {
  StatsTrack a("count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3");
  EXPECT_EQ(a.count(), -1);
  EXPECT_EQ(a.bytes(), -1);
  EXPECT_EQ(a.count_hard_limit(), 3);
  EXPECT_EQ(a.byte_hard_limit(), -1);
  EXPECT_EQ(a.ToString(), "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3");
  StatsTrack old("count=5,bytes=100");  // the pre-3.7 form
  EXPECT_EQ(old.count(), 5);
  EXPECT_EQ(old.count_hard_limit(), -1);
  EXPECT_EQ(old.ToString(), "count=5,bytes=100");
  EXPECT_EQ(StatsTrack("").ToString(), "count=-1,bytes=-1");
  EXPECT_EQ(StatsTrack("bytes=7").ToString(), "count=-1,bytes=7");
  // Empty value is -1; a third '=' piece is ignored; ',;' runs separate.
  StatsTrack odd("count==5,,;bytes=3=9;zz=1");
  EXPECT_EQ(odd.count(), -1);
  EXPECT_EQ(odd.bytes(), 3);
  EXPECT_EQ(odd.ToString(), "count=-1,bytes=3=;zz=1");
  // What ZooKeeper would throw on is skipped, never a crash.
  StatsTrack bad("count=,bytes=x1,countHardLimit=99999999999999999999,byteHardLimit=+4");
  EXPECT_EQ(bad.count(), -1);
  EXPECT_EQ(bad.bytes(), -1);
  EXPECT_EQ(bad.count_hard_limit(), -1);
  EXPECT_EQ(bad.byte_hard_limit(), 4);
}

TEST(QuotaIndex, MaxPrefixIsTheDeepestRootOnWholeComponents) {
  QuotaIndex q;
  EXPECT_FALSE(q.MaxPrefix("/a").has_value());
  q.Add("/a");
  q.Add("/a/b/c");
  q.Add("");  // the root is never a quota root
  q.Add("/");
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.MaxPrefix("/a"), "/a");
  EXPECT_EQ(q.MaxPrefix("/a/b"), "/a");
  EXPECT_EQ(q.MaxPrefix("/a/b/c/d"), "/a/b/c");
  EXPECT_FALSE(q.MaxPrefix("/ab").has_value());
  EXPECT_FALSE(q.MaxPrefix("/").has_value());
  q.Remove("/a");
  EXPECT_EQ(q.MaxPrefix("/a/b/c"), "/a/b/c");
  EXPECT_FALSE(q.MaxPrefix("/a/b").has_value());
  EXPECT_EQ(NormalizeQuotaPath("X//y/ /"), "/X/y");
  EXPECT_EQ(TopNamespace("/a/b"), "a");
  EXPECT_FALSE(TopNamespace("/").has_value());
}

TEST(DataTreeQuota, StatsFollowCreatesDeletesAndSetData) {
  DataTree t;
  int64_t z = 0;
  Create(t, "/q", "abc", &z);
  Create(t, "/q/x", "12345", &z);
  Create(t, "/other", "zzzz", &z);
  SetQuota(t, "/q", "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3", &z);
  // The stats node is recounted when created: /q and /q/x, 3 + 5 bytes.
  EXPECT_EQ(Stats(t, "/q"), "count=2,bytes=8");
  const Node* stat = t.Find(QuotaStatPath("/q"));
  const int64_t mzxid = stat->stat.mzxid();
  Create(t, "/q/y", "1234567", &z);
  Create(t, "/other/n", "", &z);
  EXPECT_EQ(Stats(t, "/q"), "count=3,bytes=15");
  ASSERT_EQ(t.SetData("/q/x", "1", 1, ++z, 2), Err::kOk);
  EXPECT_EQ(Stats(t, "/q"), "count=3,bytes=11");
  ASSERT_EQ(t.DeleteNode("/q/y", ++z), Err::kOk);
  EXPECT_EQ(Stats(t, "/q"), "count=2,bytes=4");
  // In place: the stats node's Stat does not move.
  EXPECT_EQ(t.Find(QuotaStatPath("/q"))->stat.mzxid(), mzxid);
  EXPECT_EQ(t.Find(QuotaStatPath("/q"))->stat.version(), 0);
  // Deleting the quota root itself counts too; the quota stays.
  ASSERT_EQ(t.DeleteNode("/q/x", ++z), Err::kOk);
  ASSERT_EQ(t.DeleteNode("/q", ++z), Err::kOk);
  EXPECT_EQ(Stats(t, "/q"), "count=0,bytes=0");
  EXPECT_TRUE(t.quotas().Contains("/q"));
  // delquota deletes the limits node: the root goes, stats stop moving.
  ASSERT_EQ(t.DeleteNode(QuotaLimitPath("/q"), ++z), Err::kOk);
  EXPECT_TRUE(t.quotas().empty());
  Create(t, "/q", "", &z);
  EXPECT_EQ(Stats(t, "/q"), "count=0,bytes=0");
}

TEST(DataTreeQuota, ExtraKeysInStatsAreKeptAndMissingStatsIsHarmless) {
  DataTree t;
  int64_t z = 0;
  Create(t, "/a", "", &z);
  std::string q = std::string(kQuotaZookeeper) + "/a";
  Create(t, q, "", &z);
  Create(t, q + "/zookeeper_limits", "count=10,bytes=-1", &z);
  EXPECT_TRUE(t.quotas().Contains("/a"));
  Create(t, "/a/b", "xy", &z);  // no stats node yet: logged, nothing changes
  Create(t, q + "/zookeeper_stats", "garbage", &z);
  EXPECT_EQ(Stats(t, "/a"), "count=2,bytes=2");
  ASSERT_EQ(t.SetData(q + "/zookeeper_stats", "count=100,bytes=0=;foo=1", 1, ++z, 2), Err::kOk);
  Create(t, "/a/c", "abc", &z);
  EXPECT_EQ(Stats(t, "/a"), "count=101,bytes=3=;foo=1");
}

TEST(DataTreeQuota, RebuildAfterLoadRecountsAndRestoresRoots) {
  DataTree t;
  int64_t z = 0;
  Create(t, "/a", "1", &z);
  Create(t, "/a/b", "22", &z);
  Create(t, "/c", "", &z);
  Create(t, "/c/d", "", &z);
  SetQuota(t, "/a", "count=5,bytes=-1", &z);
  SetQuota(t, "/c/d", "count=-1,bytes=10", &z);
  // A snapshot copied into a fresh tree (RestoreNode does no quota upkeep),
  // with the stats nodes' data stale as in a fuzzy snapshot.
  DataTree u;
  std::vector<std::pair<std::string, const Node*>> nodes;
  t.ForEach([&](const std::string& p, const Node& n) { nodes.emplace_back(p, &n); });
  std::sort(nodes.begin(), nodes.end());
  for (const auto& [p, n] : nodes) {
    Node copy = *n;
    if (p.ends_with("zookeeper_stats")) copy.data = "count=77,bytes=77";
    ASSERT_EQ(u.RestoreNode(p, copy, t.AclOf(*n)), Err::kOk) << p;
  }
  EXPECT_TRUE(u.quotas().empty());
  u.RebuildQuotas();
  EXPECT_EQ(u.quotas().size(), 2u);
  EXPECT_EQ(Stats(u, "/a"), "count=2,bytes=3");
  EXPECT_EQ(Stats(u, "/c/d"), "count=1,bytes=0");
  Create(u, "/a/e", "", &z);
  EXPECT_EQ(Stats(u, "/a"), "count=3,bytes=3");
}

TEST(DataTreeQuota, FiguresPerNamespaceAsQuotaMetricsUtils) {
  DataTree t;
  int64_t z = 0;
  EXPECT_TRUE(CollectQuotaFigures(t).count_limit.empty());
  Create(t, "/a", "", &z);
  Create(t, "/a/x", "", &z);
  Create(t, "/a/y", "1234", &z);
  Create(t, "/b", "", &z);
  SetQuota(t, "/a/x", "count=-1,bytes=-1=;byteHardLimit=100;countHardLimit=4", &z);
  SetQuota(t, "/a/y", "count=2,bytes=50", &z);
  SetQuota(t, "/b", "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=7", &z);
  QuotaFigures f = CollectQuotaFigures(t);
  EXPECT_EQ(f.count_limit, (std::map<std::string, int64_t>{{"a", 6}, {"b", 7}}));
  EXPECT_EQ(f.bytes_limit, (std::map<std::string, int64_t>{{"a", 150}, {"b", -1}}));
  EXPECT_EQ(f.count_usage, (std::map<std::string, int64_t>{{"a", 2}, {"b", 1}}));
  EXPECT_EQ(f.bytes_usage, (std::map<std::string, int64_t>{{"a", 4}, {"b", 0}}));
}

}  // namespace
}  // namespace aviary::tree
