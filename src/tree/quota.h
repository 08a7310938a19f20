// ZooKeeper's quota bookkeeping pieces (org.apache.zookeeper.Quotas,
// StatsTrack and the DataTree's PathTrie of quota roots). A quota on /p is
// two ordinary znodes written by clients (zkCli's setquota):
//   /zookeeper/quota/p/zookeeper_limits  "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3"
//   /zookeeper/quota/p/zookeeper_stats   "count=N,bytes=M" (kept up to date by the tree)
// The tree keeps the set of quota roots (QuotaIndex) and rewrites the stats
// node in place as nodes under a root are created, deleted or changed.
//
// Owns: plain values. Thread use: pure functions / single-threaded values
// (the tree's owner). Invariant: QuotaIndex holds normalized paths ("/a/b":
// one leading '/', no empty components, never "/").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

namespace aviary::tree {

inline constexpr std::string_view kProcZookeeper = "/zookeeper";
inline constexpr std::string_view kQuotaZookeeper = "/zookeeper/quota";
inline constexpr std::string_view kQuotaLimitNode = "zookeeper_limits";
inline constexpr std::string_view kQuotaStatNode = "zookeeper_stats";

// Quotas.limitPath / statPath: "/zookeeper/quota" + path + "/zookeeper_limits".
std::string QuotaLimitPath(std::string_view path);
std::string QuotaStatPath(std::string_view path);

// StatsTrack: "key=value" pairs split on runs of ',' and ';'; an absent key
// reads -1. ZooKeeper throws on a pair it cannot parse (a client may write
// anything into these nodes); here such a pair is skipped, the same way on
// every Aviary server.
class StatsTrack {
 public:
  StatsTrack() = default;
  explicit StatsTrack(std::string_view text);

  int64_t Get(std::string_view key) const;
  void Set(std::string_view key, int64_t value) { values_[std::string(key)] = value; }

  int64_t count() const { return Get("count"); }
  int64_t bytes() const { return Get("bytes"); }
  int64_t count_hard_limit() const { return Get("countHardLimit"); }
  int64_t byte_hard_limit() const { return Get("byteHardLimit"); }

  // StatsTrack.toString: "count=C,bytes=B", then - only if other keys are
  // present - "=" and ";key=value" for each other key in sorted order.
  std::string ToString() const;

 private:
  std::map<std::string, int64_t> values_;
};

// The DataTree's pTrie: paths that hold a quota (a zookeeper_limits node).
class QuotaIndex {
 public:
  bool empty() const { return paths_.empty(); }
  size_t size() const { return paths_.size(); }
  // PathTrie.addPath / deletePath of `path`, normalized (empty components
  // dropped). The root ("" or "/") is never a quota root.
  void Add(std::string_view path);
  void Remove(std::string_view path);
  void Clear() { paths_.clear(); }
  bool Contains(std::string_view path) const;
  // DataTree.getMaxPrefixWithQuota: the deepest quota root that is `path`
  // or one of its ancestors (whole components), or nullopt.
  std::optional<std::string> MaxPrefix(std::string_view path) const;

 private:
  std::unordered_set<std::string> paths_;
};

// "/" + the non-empty components of `path` joined by '/' ("" -> "/").
std::string NormalizeQuotaPath(std::string_view path);

// PathUtils.getTopNamespace: "/a/b" -> "a"; nullopt for "/" or "".
std::optional<std::string> TopNamespace(std::string_view path);

}  // namespace aviary::tree
