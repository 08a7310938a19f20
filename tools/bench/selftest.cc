#include "selftest.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "histogram.h"

namespace aviary::bench {

namespace {

// Nearest-rank percentile of sorted samples, the definition Histogram uses.
int64_t Exact(const std::vector<int64_t>& sorted, double q) {
  auto rank = static_cast<size_t>(std::max(1.0, std::ceil(q * static_cast<double>(sorted.size()))));
  return sorted[std::min(rank, sorted.size()) - 1];
}

int Check(const char* name, std::vector<int64_t> samples) {
  Histogram h, a, b;
  double sum = 0;
  for (size_t i = 0; i < samples.size(); i++) {
    h.Record(samples[i]);
    (i % 2 ? a : b).Record(samples[i]);
    sum += static_cast<double>(samples[i]);
  }
  a.Merge(b);
  std::sort(samples.begin(), samples.end());
  int failures = 0;
  for (double q : {0.5, 0.9, 0.99, 0.999, 1.0}) {
    int64_t want = Exact(samples, q), got = h.Percentile(q);
    double err = std::abs(static_cast<double>(got - want)) / static_cast<double>(std::max<int64_t>(want, 1));
    if (err > 0.01 || a.Percentile(q) != got) {
      std::printf("FAIL %s q=%g: histogram %lld, exact %lld (error %.4f), merged %lld\n", name, q,
                  static_cast<long long>(got), static_cast<long long>(want), err,
                  static_cast<long long>(a.Percentile(q)));
      failures++;
    }
  }
  double mean = sum / static_cast<double>(samples.size());
  if (h.count() != static_cast<int64_t>(samples.size()) || h.max() != samples.back() ||
      std::abs(h.mean() - mean) > 1e-6 * mean + 1e-9) {
    std::printf("FAIL %s: count %lld max %lld mean %.3f, want %zu %lld %.3f\n", name, static_cast<long long>(h.count()),
                static_cast<long long>(h.max()), h.mean(), samples.size(), static_cast<long long>(samples.back()),
                mean);
    failures++;
  }
  if (failures == 0) std::printf("ok   %s\n", name);
  return failures;
}

}  // namespace

int RunSelfTest() {
  std::mt19937_64 rng(42);
  constexpr int64_t kUs = 1000, kS = 1'000'000'000;
  int failures = 0;
  std::vector<int64_t> v;
  std::uniform_int_distribution<int64_t> uniform(kUs, 100'000 * kUs);
  for (int i = 0; i < 200000; i++) v.push_back(uniform(rng));
  failures += Check("uniform 1us..100ms", v);
  v.clear();
  std::exponential_distribution<double> expo(1.0 / (200.0 * kUs));
  for (int i = 0; i < 200000; i++) v.push_back(kUs + static_cast<int64_t>(expo(rng)));
  failures += Check("exponential mean 200us", v);
  v.clear();
  for (int i = 0; i < 100000; i++) v.push_back(i % 100 == 0 ? 60 * kS : 50 * kUs + (i % 7) * kUs);
  failures += Check("bimodal 50us / 60s", v);
  v.assign(1000, kUs);
  failures += Check("constant 1us", v);
  v.assign(1000, 60 * kS);
  failures += Check("constant 60s", v);
  v.clear();
  for (int i = 0; i < 10000; i++) v.push_back(static_cast<int64_t>(std::pow(10.0, 3.0 + 8.0 * i / 10000.0)));
  failures += Check("log-spaced 1us..100s", v);
  v = {7 * kUs};
  failures += Check("single sample", v);
  Histogram empty;
  if (empty.Percentile(0.99) != 0 || empty.count() != 0) {
    std::printf("FAIL empty histogram\n");
    failures++;
  }
  std::printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
  return failures;
}

}  // namespace aviary::bench
