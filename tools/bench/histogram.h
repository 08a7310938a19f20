// Latency histogram for aviary-bench, HDR-style: log-linear buckets over
// nanoseconds (256 linear sub-buckets per power of two: values below 256 ns
// are exact, above that a reported value is within 1/128 (< 0.8%) of the
// true one, over the whole int64 range, so 1 us .. hours). Fixed size
// (~58 KiB), no allocation after construction, Record is a few instructions.
// Not thread-safe: each load thread owns one and they are merged at the end.
#pragma once

#include <cstdint>
#include <vector>

namespace aviary::bench {

class Histogram {
 public:
  Histogram();
  void Record(int64_t ns);
  void Merge(const Histogram& other);
  void Clear();

  int64_t count() const { return count_; }
  int64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
  // Smallest recorded-bucket upper bound v such that a fraction >= q of the
  // samples are <= v (q in [0,1]); 0 when empty. Capped at max().
  int64_t Percentile(double q) const;

 private:
  static int Index(uint64_t v);
  static uint64_t UpperBound(int index);

  std::vector<int64_t> buckets_;
  int64_t count_ = 0;
  int64_t sum_ = 0;
  int64_t max_ = 0;
};

}  // namespace aviary::bench
