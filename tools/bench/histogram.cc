#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace aviary::bench {

namespace {
constexpr int kSubBits = 8;
constexpr uint64_t kSub = uint64_t{1} << kSubBits;  // 256
constexpr uint64_t kHalf = kSub / 2;                // 128
constexpr int kBuckets = static_cast<int>((64 - kSubBits + 1) * kHalf + kSub);
}  // namespace

Histogram::Histogram() : buckets_(kBuckets, 0) {}

// Values below 256 map to themselves; above, the top 8 significant bits
// select a bucket: index = shift * 128 + (v >> shift), contiguous with the
// linear range.
int Histogram::Index(uint64_t v) {
  if (v < kSub) return static_cast<int>(v);
  int msb = 63 - std::countl_zero(v);
  int shift = msb - kSubBits + 1;
  return static_cast<int>(static_cast<uint64_t>(shift) * kHalf + (v >> shift));
}

uint64_t Histogram::UpperBound(int index) {
  if (index < static_cast<int>(kSub)) return static_cast<uint64_t>(index);
  int shift = index / static_cast<int>(kHalf) - 1;
  uint64_t sub = static_cast<uint64_t>(index) - static_cast<uint64_t>(shift) * kHalf;
  return ((sub + 1) << shift) - 1;
}

void Histogram::Record(int64_t ns) {
  if (ns < 0) ns = 0;
  buckets_[Index(static_cast<uint64_t>(ns))]++;
  count_++;
  sum_ += ns;
  max_ = std::max(max_, ns);
}

void Histogram::Clear() {
  std::fill(buckets_.begin(), buckets_.end(), 0);
  count_ = sum_ = max_ = 0;
}

void Histogram::Merge(const Histogram& other) {
  for (size_t i = 0; i < buckets_.size(); i++) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

int64_t Histogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  int64_t target = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(q * static_cast<double>(count_))));
  int64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); i++) {
    seen += buckets_[i];
    if (seen >= target) return std::min<int64_t>(static_cast<int64_t>(UpperBound(static_cast<int>(i))), max_);
  }
  return max_;
}

}  // namespace aviary::bench
