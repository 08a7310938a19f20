// Quota enforcement at prepare (ZooKeeperServer.checkQuota, enabled by
// zookeeper.enforceQuota). A create or setData under a quota root whose new
// count / bytes would pass a hard limit (countHardLimit, byteHardLimit in
// zookeeper_limits) fails with kQuotaExceeded; passing a soft limit (count,
// bytes) is only logged ("Quota exceeded: ..."), rate-limited as
// ZooKeeper's RateLogger. With enforcement off nothing is checked or logged,
// as in ZooKeeper 3.8.
//
// Usage is the root's zookeeper_stats in the tree (as ZooKeeper 3.8, which
// reads only applied state) plus the *growth* of txns prepared but not yet
// applied (recorded here, dropped at Applied): writes prepared together -
// the ops of one multi, a burst of pipelined creates - cannot pass a hard
// limit between them, which ZooKeeper 3.8 lets happen. Pending deletes and
// shrinks are not credited until applied, as in ZooKeeper, so Aviary refuses
// every write ZooKeeper refuses (see docs/COMPATIBILITY.md). The outcome is
// part of the txn (an error txn), so every server applies the same thing.
// Nothing is kept when enforcement is off or the tree has no quota (the
// common case costs one branch).
//
// Single-threaded (the Preparer's thread), except QuotaErrorCounts.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "proto/codes.h"
#include "tree/data_tree.h"

namespace aviary::txn {

// quota_exceeded_error_per_namespace: hard-limit refusals by top-level
// namespace of the refused path ("/a/b" -> "a"). Thread-safe: the preparing
// thread adds, a metrics reader copies.
class QuotaErrorCounts {
 public:
  void Add(const std::string& ns);
  std::map<std::string, int64_t> Snapshot() const;
  int64_t Total() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, int64_t> counts_;
};

class QuotaGuard {
 public:
  QuotaGuard(const tree::DataTree& tree, bool enforce, QuotaErrorCounts* errors)
      : tree_(tree), enforce_(enforce), errors_(errors) {}

  // Whether changes need checking / recording at all.
  bool active() const { return enforce_ && !tree_.quotas().empty(); }
  // checkQuota for a change of `path` by (count_diff, bytes_diff): create
  // is (1, data bytes), setData (0, new - old bytes). kOk or kQuotaExceeded.
  proto::Err Check(std::string_view path, int64_t count_diff, int64_t bytes_diff, int64_t now_ms);
  // A prepared change of txn `zxid`; its growth (positive parts) is counted
  // by later checks until applied.
  void Record(std::string_view path, int64_t zxid, int64_t count_diff, int64_t bytes_diff);
  size_t Mark() const { return pending_.size(); }
  // Forgets the changes recorded since Mark() returned `mark`.
  void RollbackTo(size_t mark);
  void Applied(int64_t zxid);
  void Clear();

 private:
  struct Pending {
    int64_t zxid;
    std::string prefix;
    int64_t count;
    int64_t bytes;
  };
  struct Sum {
    int64_t count = 0;
    int64_t bytes = 0;
  };
  void Unsum(const Pending& p);
  bool Exceeds(const std::string& prefix, const char* what, int64_t now, int64_t soft, int64_t hard, int64_t now_ms);
  void RateLog(const std::string& msg, int64_t now_ms);
  void Flush();

  const tree::DataTree& tree_;
  bool enforce_;
  QuotaErrorCounts* errors_;
  std::deque<Pending> pending_;
  std::unordered_map<std::string, Sum> sums_;
  // RateLogger state: the last message, when it was logged, repeats since.
  std::string last_msg_;
  int64_t last_ms_ = 0;
  int64_t repeats_ = 0;
};

}  // namespace aviary::txn
