#include "server/latency_trace.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "base/log.h"

namespace aviary::server::trace {

namespace {

constexpr int kSubBits = 5;  // 32 sub-buckets per power of two
constexpr int kSub = 1 << kSubBits;
constexpr int kMaxExp = 40;  // values up to 2^41 us (~25 days) are told apart; larger share the last bucket
constexpr int kBuckets = kSub + (kMaxExp - kSubBits + 1) * kSub;

const char* const kNames[kPhaseCount] = {"read_total", "write_total", "core_wait", "deliver", "group_wait",
                                         "fsync",      "commit_wake", "pass",      "io_wait"};

struct Hist {
  std::array<std::atomic<int64_t>, kBuckets> buckets{};
  std::atomic<int64_t> count{0};
  std::atomic<int64_t> sum{0};
  std::atomic<int64_t> max{0};
};

std::array<Hist, kPhaseCount>& Hists() {
  static std::array<Hist, kPhaseCount> h;
  return h;
}

struct Writer {
  std::mutex mu;
  std::condition_variable cv;
  std::thread thread;
  bool stop = false;
  std::string path;
};

Writer& TheWriter() {
  static Writer w;
  return w;
}

void WriteFile(const std::string& path) {
  const std::string json = Json();
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return;
  std::fwrite(json.data(), 1, json.size(), f);
  std::fclose(f);
  std::rename(tmp.c_str(), path.c_str());
}

}  // namespace

namespace detail {
std::atomic<bool> enabled{false};

void Record(Phase p, int64_t us) {
  if (us < 0) us = 0;
  Hist& h = Hists()[p];
  h.buckets[static_cast<size_t>(BucketOf(us))].fetch_add(1, std::memory_order_relaxed);
  h.count.fetch_add(1, std::memory_order_relaxed);
  h.sum.fetch_add(us, std::memory_order_relaxed);
  int64_t m = h.max.load(std::memory_order_relaxed);
  while (us > m && !h.max.compare_exchange_weak(m, us, std::memory_order_relaxed)) {
  }
}
}  // namespace detail

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int BucketOf(int64_t us) {
  if (us < kSub) return static_cast<int>(us < 0 ? 0 : us);
  const int e = 63 - __builtin_clzll(static_cast<uint64_t>(us));  // >= kSubBits
  if (e > kMaxExp) return kBuckets - 1;
  const int sub = static_cast<int>((static_cast<uint64_t>(us) >> (e - kSubBits)) & (kSub - 1));
  return kSub + (e - kSubBits) * kSub + sub;
}

int64_t BucketUpperUs(int index) {
  if (index < kSub) return index;
  const int e = (index - kSub) / kSub + kSubBits;
  const int sub = (index - kSub) % kSub;
  return ((static_cast<int64_t>(kSub + sub) + 1) << (e - kSubBits)) - 1;
}

int64_t Count(Phase p) { return Hists()[p].count.load(std::memory_order_relaxed); }

int64_t PercentileUs(Phase p, double q) {
  const Hist& h = Hists()[p];
  const int64_t n = h.count.load(std::memory_order_relaxed);
  if (n == 0) return 0;
  int64_t rank = static_cast<int64_t>(q * static_cast<double>(n) + 0.999999);
  if (rank < 1) rank = 1;
  int64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += h.buckets[static_cast<size_t>(i)].load(std::memory_order_relaxed);
    if (seen >= rank) return std::min(BucketUpperUs(i), h.max.load(std::memory_order_relaxed));
  }
  return h.max.load(std::memory_order_relaxed);
}

std::string Json() {
  std::string out = "{";
  for (int p = 0; p < kPhaseCount; ++p) {
    const Hist& h = Hists()[static_cast<size_t>(p)];
    char head[256];
    std::snprintf(head, sizeof head, "%s\"%s\": {\"count\": %lld, \"sum_us\": %lld, \"max_us\": %lld, \"buckets\": [",
                  p ? ", " : "", kNames[p], static_cast<long long>(h.count.load()),
                  static_cast<long long>(h.sum.load()), static_cast<long long>(h.max.load()));
    out += head;
    bool first = true;
    for (int i = 0; i < kBuckets; ++i) {
      const int64_t c = h.buckets[static_cast<size_t>(i)].load(std::memory_order_relaxed);
      if (c == 0) continue;
      char b[64];
      std::snprintf(b, sizeof b, "%s[%lld, %lld]", first ? "" : ", ", static_cast<long long>(BucketUpperUs(i)),
                    static_cast<long long>(c));
      out += b;
      first = false;
    }
    out += "]}";
  }
  out += "}\n";
  return out;
}

bool Requested() {
  const char* path = std::getenv("AVIARY_LATENCY_TRACE");
  return path != nullptr && *path != '\0';
}

void Start() {
  Writer& w = TheWriter();
  std::lock_guard<std::mutex> lock(w.mu);
  if (w.thread.joinable()) return;
  const char* path = std::getenv("AVIARY_LATENCY_TRACE");
  if (path == nullptr || *path == '\0') return;
  w.path = path;
  w.stop = false;
  detail::enabled.store(true);
  AV_LOG(kInfo, "AVIARY_LATENCY_TRACE: per-phase latency histograms written to {} once a second", w.path);
  w.thread = std::thread([&w] {
    std::unique_lock<std::mutex> l(w.mu);
    while (true) {
      const bool stopping = w.cv.wait_for(l, std::chrono::seconds(1), [&w] { return w.stop; });
      WriteFile(w.path);
      if (stopping) break;
    }
  });
}

void Stop() {
  Writer& w = TheWriter();
  {
    std::lock_guard<std::mutex> lock(w.mu);
    if (!w.thread.joinable()) return;
    w.stop = true;
  }
  w.cv.notify_one();
  w.thread.join();
}

void ResetForTest(bool on) {
  for (auto& h : Hists()) {
    for (auto& b : h.buckets) b.store(0);
    h.count.store(0);
    h.sum.store(0);
    h.max.store(0);
  }
  detail::enabled.store(on);
}

}  // namespace aviary::server::trace
