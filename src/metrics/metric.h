// The metric kinds of ZooKeeper 3.8's metrics system, cheap on the hot path.
//
// Owns: Counter (a monotonic count), Summary (ZooKeeper's AvgMinMaxCounter:
// count, sum, min, max, plus a ring of the most recent samples for
// quantiles, as its AvgMinMaxPercentileCounter and the Prometheus provider
// report them) and SummarySet (one Summary per key, ZooKeeper's SummarySet,
// e.g. read_per_namespace keyed by the top-level znode name).
//
// Threads: Counter::Add and Summary::Add may be called from any thread
// (relaxed atomics, no lock) - except a Summary of Writers::kOne, whose Add
// only ONE thread calls (it loads and stores each atomic instead of a locked
// read-modify-write: 3 fewer `lock` instructions per Add on the core's hot
// path; a second writer would lose counts, never tear them). Readers (the
// mntr and /metrics renderers) may run at the same time and see each value
// at least as new as its last published store, never torn or going back,
// not one consistent cut (as ZooKeeper's). A SummarySet has ONE writer thread
// (its Get caches keys without a lock), so its summaries are Writers::kOne;
// a new key takes a mutex once, readers take it to list the keys.
// Invariants: Summary min <= max once count > 0; values are never reset.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace aviary::metrics {

// ZooKeeper's MetricsContext.DetailLevel: BASIC summaries report
// avg/min/max/cnt/sum in mntr and the 0.5 quantile in Prometheus; ADVANCED
// ones add p50/p95/p99/p999 in mntr and 0.5/0.9/0.99 in Prometheus.
enum class Detail { kBasic, kAdvanced };

// Who calls a Summary's Add: any thread, or always the same one.
enum class Writers { kAny, kOne };

class Counter {
 public:
  void Add(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t Get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

class Summary {
 public:
  // Quantiles are taken over the last kWindow samples.
  static constexpr size_t kWindow = 1024;

  explicit Summary(Detail detail, Writers writers = Writers::kAny)
      : detail_(detail), one_writer_(writers == Writers::kOne) {}
  Summary(const Summary&) = delete;
  Summary& operator=(const Summary&) = delete;

  void Add(int64_t value);

  struct Values {
    int64_t count = 0;
    int64_t sum = 0;
    int64_t min = 0;  // 0 while count == 0, as ZooKeeper prints it
    int64_t max = 0;
    double avg = 0;  // sum / count, 0.0 while empty
  };
  Values Read() const;

  // The q-quantiles (0 < q <= 1) of the recent window, nearest rank; empty
  // when no sample was taken yet.
  std::vector<int64_t> Quantiles(const std::vector<double>& qs) const;

  Detail detail() const { return detail_; }
  Writers writers() const { return one_writer_ ? Writers::kOne : Writers::kAny; }
  // Declares one writer thread for a summary registered before its feeder
  // was known (ServerMetrics' core-only summaries): call before any Add.
  void SetOneWriter() { one_writer_ = true; }

 private:
  const Detail detail_;
  bool one_writer_;
  std::atomic<int64_t> count_{0};
  std::atomic<int64_t> sum_{0};
  std::atomic<int64_t> min_{INT64_MAX};
  std::atomic<int64_t> max_{INT64_MIN};
  std::atomic<uint64_t> next_{0};
  std::array<std::atomic<int64_t>, kWindow> ring_{};
};

class SummarySet {
 public:
  // Keys past this many share the entry kOverflowKey (a hostile client
  // could otherwise make one per top-level znode).
  static constexpr size_t kMaxKeys = 1024;
  static constexpr std::string_view kOverflowKey = "_other";

  explicit SummarySet(Detail detail) : detail_(detail) {}

  // The summary of `key`: WRITER THREAD ONLY.
  Summary& Get(std::string_view key);

  // Every (key, summary) in creation order: any thread.
  std::vector<std::pair<std::string, const Summary*>> Entries() const;

  Detail detail() const { return detail_; }

 private:
  Summary& Create(const std::string& key);

  struct KeyHash {
    using is_transparent = void;  // lookups by string_view: no allocation per update
    size_t operator()(std::string_view k) const { return std::hash<std::string_view>{}(k); }
  };
  const Detail detail_;
  std::unordered_map<std::string, Summary*, KeyHash, std::equal_to<>> writer_index_;  // writer thread only
  mutable std::mutex mu_;                                                             // guards entries_
  std::deque<std::pair<std::string, std::unique_ptr<Summary>>> entries_;
};

}  // namespace aviary::metrics
