#include "txn/quota_check.h"

#include <fmt/core.h>

#include <algorithm>

#include "base/log.h"

namespace aviary::txn {
namespace {

constexpr int64_t kRateLogIntervalMs = 100;  // RateLogger's default

}  // namespace

void QuotaErrorCounts::Add(const std::string& ns) {
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[ns];
}

std::map<std::string, int64_t> QuotaErrorCounts::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

int64_t QuotaErrorCounts::Total() const {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t n = 0;
  for (const auto& [ns, c] : counts_) n += c;
  return n;
}

proto::Err QuotaGuard::Check(std::string_view path, int64_t count_diff, int64_t bytes_diff, int64_t now_ms) {
  if (!active()) return proto::Err::kOk;
  const std::optional<std::string> prefix = tree_.quotas().MaxPrefix(path);
  if (!prefix) return proto::Err::kOk;
  const std::optional<tree::StatsTrack> limits = tree_.QuotaLimits(*prefix);
  if (!limits) {
    AV_LOG(kError, "Missing limit node for quota {}", tree::QuotaLimitPath(*prefix));
    return proto::Err::kOk;
  }
  const bool check_count = count_diff != 0 && (limits->count() > -1 || limits->count_hard_limit() > -1);
  const bool check_bytes = bytes_diff != 0 && (limits->bytes() > -1 || limits->byte_hard_limit() > -1);
  if (!check_count && !check_bytes) return proto::Err::kOk;
  const std::optional<tree::StatsTrack> stats = tree_.QuotaStats(*prefix);
  if (!stats) {
    AV_LOG(kError, "Missing node for stat {}", tree::QuotaStatPath(*prefix));
    return proto::Err::kOk;
  }
  Sum pending;
  if (auto it = sums_.find(*prefix); it != sums_.end()) pending = it->second;
  bool refused = check_count && Exceeds(*prefix, "count", stats->count() + pending.count + count_diff, limits->count(),
                                        limits->count_hard_limit(), now_ms);
  // ZooKeeper checks the byte quota only when the count quota let it pass.
  if (!refused) {
    refused = check_bytes && Exceeds(*prefix, "bytes", stats->bytes() + pending.bytes + bytes_diff, limits->bytes(),
                                     limits->byte_hard_limit(), now_ms);
  }
  if (!refused) return proto::Err::kOk;
  if (errors_ != nullptr) {
    if (std::optional<std::string> ns = tree::TopNamespace(path)) errors_->Add(*ns);
  }
  return proto::Err::kQuotaExceeded;
}

// One limit: logs when `now` passes it; true when that limit is hard.
bool QuotaGuard::Exceeds(const std::string& prefix, const char* what, int64_t now, int64_t soft, int64_t hard,
                         int64_t now_ms) {
  const bool is_hard = hard > -1;
  const int64_t limit = is_hard ? hard : soft;
  if (now <= limit) return false;
  const bool count = std::string_view(what) == "count";
  RateLog(fmt::format("Quota exceeded: {} [current {}={}, {}{}Limit={}]", prefix, what, now, is_hard ? "hard" : "soft",
                      count ? "Count" : "Byte", limit),
          now_ms);
  return is_hard;
}

// RateLogger.rateLimitLog: a new message is logged at once; repeats of it
// are counted and logged as "[N times] Message: ..." at most every 100 ms.
void QuotaGuard::RateLog(const std::string& msg, int64_t now_ms) {
  if (msg == last_msg_) {
    ++repeats_;
    if (now_ms - last_ms_ >= kRateLogIntervalMs) {
      Flush();
      last_msg_ = msg;
      last_ms_ = now_ms;
    }
    return;
  }
  Flush();
  last_msg_ = msg;
  last_ms_ = now_ms;
  AV_LOG(kWarn, "Message:{} Value:null", msg);
}

void QuotaGuard::Flush() {
  if (!last_msg_.empty() && repeats_ > 0) {
    AV_LOG(kWarn, "{}Message: {}", repeats_ > 1 ? fmt::format("[{} times] ", repeats_) : "", last_msg_);
  }
  last_msg_.clear();
  repeats_ = 0;
}

void QuotaGuard::Record(std::string_view path, int64_t zxid, int64_t count_diff, int64_t bytes_diff) {
  count_diff = std::max<int64_t>(count_diff, 0);
  bytes_diff = std::max<int64_t>(bytes_diff, 0);
  if (!active() || (count_diff == 0 && bytes_diff == 0)) return;
  std::optional<std::string> prefix = tree_.quotas().MaxPrefix(path);
  if (!prefix) return;
  Sum& s = sums_[*prefix];
  s.count += count_diff;
  s.bytes += bytes_diff;
  pending_.push_back(Pending{zxid, std::move(*prefix), count_diff, bytes_diff});
}

void QuotaGuard::Unsum(const Pending& p) {
  auto it = sums_.find(p.prefix);
  if (it == sums_.end()) return;
  it->second.count -= p.count;
  it->second.bytes -= p.bytes;
  if (it->second.count == 0 && it->second.bytes == 0) sums_.erase(it);
}

void QuotaGuard::RollbackTo(size_t mark) {
  while (pending_.size() > mark) {
    Unsum(pending_.back());
    pending_.pop_back();
  }
}

void QuotaGuard::Applied(int64_t zxid) {
  while (!pending_.empty() && pending_.front().zxid <= zxid) {
    Unsum(pending_.front());
    pending_.pop_front();
  }
}

void QuotaGuard::Clear() {
  pending_.clear();
  sums_.clear();
}

}  // namespace aviary::txn
