#include "metrics/metric.h"

#include <algorithm>
#include <cmath>

namespace aviary::metrics {

void Summary::Add(int64_t value) {
  if (one_writer_) {
    // Only this thread stores: load + store (plain moves on x86) cannot lose
    // an update, and each store is a whole value that never goes back. The
    // ring slot is written before next_ publishes it, and min / max before
    // count_ publishes them (release / acquire): a reader that sees a count
    // sees the min and max of at least that many samples.
    sum_.store(sum_.load(std::memory_order_relaxed) + value, std::memory_order_relaxed);
    if (value < min_.load(std::memory_order_relaxed)) min_.store(value, std::memory_order_relaxed);
    if (value > max_.load(std::memory_order_relaxed)) max_.store(value, std::memory_order_relaxed);
    count_.store(count_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    const uint64_t n = next_.load(std::memory_order_relaxed);
    ring_[n % kWindow].store(value, std::memory_order_relaxed);
    next_.store(n + 1, std::memory_order_release);
    return;
  }
  sum_.fetch_add(value, std::memory_order_relaxed);
  int64_t cur = min_.load(std::memory_order_relaxed);
  while (value < cur && !min_.compare_exchange_weak(cur, value, std::memory_order_relaxed)) {
  }
  cur = max_.load(std::memory_order_relaxed);
  while (value > cur && !max_.compare_exchange_weak(cur, value, std::memory_order_relaxed)) {
  }
  count_.fetch_add(1, std::memory_order_release);  // after min / max, as above
  uint64_t slot = next_.fetch_add(1, std::memory_order_relaxed) % kWindow;
  ring_[slot].store(value, std::memory_order_relaxed);
}

Summary::Values Summary::Read() const {
  Values v;
  v.count = count_.load(std::memory_order_acquire);  // then min / max of at least that many samples
  v.sum = sum_.load(std::memory_order_relaxed);
  if (v.count > 0) {
    v.min = min_.load(std::memory_order_relaxed);
    v.max = max_.load(std::memory_order_relaxed);
    if (v.min == INT64_MAX) v.min = 0;  // not reached: count_ is published after min_ / max_
    if (v.max == INT64_MIN) v.max = v.min;
    v.avg = static_cast<double>(v.sum) / static_cast<double>(v.count);
  }
  return v;
}

std::vector<int64_t> Summary::Quantiles(const std::vector<double>& qs) const {
  const uint64_t taken = next_.load(std::memory_order_acquire);
  const size_t n = static_cast<size_t>(std::min<uint64_t>(taken, kWindow));
  if (n == 0) return {};
  std::vector<int64_t> window(n);
  for (size_t i = 0; i < n; ++i) window[i] = ring_[i].load(std::memory_order_relaxed);
  std::sort(window.begin(), window.end());
  std::vector<int64_t> out;
  out.reserve(qs.size());
  for (double q : qs) {
    double rank = std::ceil(q * static_cast<double>(n));
    size_t idx = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
    out.push_back(window[std::min(idx, n - 1)]);
  }
  return out;
}

Summary& SummarySet::Get(std::string_view key) {
  auto it = writer_index_.find(key);
  if (it != writer_index_.end()) return *it->second;
  if (writer_index_.size() >= kMaxKeys) {
    auto other = writer_index_.find(kOverflowKey);
    if (other != writer_index_.end()) return *other->second;
    Summary& s = Create(std::string(kOverflowKey));
    writer_index_.emplace(std::string(kOverflowKey), &s);
    return s;
  }
  Summary& s = Create(std::string(key));
  writer_index_.emplace(std::string(key), &s);
  return s;
}

Summary& SummarySet::Create(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.emplace_back(key, std::make_unique<Summary>(detail_, Writers::kOne));
  return *entries_.back().second;
}

std::vector<std::pair<std::string, const Summary*>> SummarySet::Entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, const Summary*>> out;
  out.reserve(entries_.size());
  for (const auto& [k, s] : entries_) out.emplace_back(k, s.get());
  return out;
}

}  // namespace aviary::metrics
