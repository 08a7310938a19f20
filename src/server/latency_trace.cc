#include "server/latency_trace.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/log.h"

namespace aviary::server::trace {

namespace {

constexpr int kSubBits = 5;  // 32 sub-buckets per power of two
constexpr int kSub = 1 << kSubBits;
constexpr int kMaxExp = 40;  // values up to 2^41 us (~25 days) are told apart; larger share the last bucket
constexpr int kBuckets = kSub + (kMaxExp - kSubBits + 1) * kSub;

const char* const kNames[kPhaseCount] = {"read_total",  "write_total", "core_wait", "deliver", "group_wait", "fsync",
                                         "commit_wake", "pass",        "io_wait",   "w_core",  "w_pass",     "w_queue",
                                         "w_write",     "w_order",     "w_wake",    "w_apply", "w_deliver",  "w_total"};

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

// The write split: marks by zxid in a ring (2^15 txns: seconds of writes
// at any rate this server reaches, far more than are ever in flight).
constexpr int64_t kRingSize = int64_t{1} << 15;
struct WriteMarks {
  std::atomic<int64_t> zxid{-1};
  std::array<std::atomic<int64_t>, kMarkCount> at{};
};

WriteMarks* Ring() {
  static WriteMarks* ring = new WriteMarks[kRingSize];  // only once tracing marks a write; never freed
  return ring;
}

int64_t SlowWriteUsFromEnv() {
  const char* v = std::getenv("AVIARY_LATENCY_TRACE_SLOW_US");
  return v != nullptr && *v != '\0' ? std::atoll(v) : 0;
}

// Writes replied in the pass under way, and what their splits add up to.
struct Split {
  std::mutex mu;
  struct Replied {
    int64_t received_us;
    int64_t queued_us;
    std::array<int64_t, kMarkCount> at;
  };
  std::vector<Replied> replied;
  // Per bucket of w_total: how many, and the sum of each part.
  std::array<std::array<int64_t, kSplitParts + 1>, kBuckets> by_total{};
  std::array<std::array<int64_t, kSplitParts + 2>, kSlowWrites> slow{};
  int64_t slow_next = 0;  // writes noted in slow (the ring's next slot: slow_next % kSlowWrites)
  int64_t slow_us = SlowWriteUsFromEnv();
};

Split& TheSplit() {
  static Split s;
  return s;
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

void MarkWriteSlow(int64_t zxid, Mark m, int64_t us) {
  WriteMarks& w = Ring()[zxid & (kRingSize - 1)];
  if (m == kMarkProposed) {
    w.zxid.store(-1, std::memory_order_relaxed);
    for (auto& a : w.at) a.store(0, std::memory_order_relaxed);
    w.at[kMarkProposed].store(us, std::memory_order_relaxed);
    w.zxid.store(zxid, std::memory_order_release);
    return;
  }
  if (w.zxid.load(std::memory_order_acquire) != zxid) return;
  if (m == kMarkSubmitted) {
    int64_t none = 0;
    w.at[m].compare_exchange_strong(none, us, std::memory_order_relaxed);
    return;
  }
  w.at[m].store(us, std::memory_order_relaxed);
}

void WriteReplied(int64_t zxid, int64_t received_us, int64_t queued_us) {
  if (!On() || received_us <= 0) return;
  WriteMarks& w = Ring()[zxid & (kRingSize - 1)];
  if (w.zxid.load(std::memory_order_acquire) != zxid) return;
  Split::Replied r{received_us, queued_us, {}};
  for (int m = 0; m < kMarkCount; ++m)
    r.at[static_cast<size_t>(m)] = w.at[static_cast<size_t>(m)].load(std::memory_order_relaxed);
  // A storage thread that was awake may take a group before the pass that
  // proposed it ends (no EndOfPass saw it): handed over as its write started.
  if (r.at[kMarkSubmitted] == 0) r.at[kMarkSubmitted] = r.at[kMarkWriteStart];
  for (int64_t at : r.at) {
    if (at == 0) return;  // not the durable standalone path: no split
  }
  Split& s = TheSplit();
  std::lock_guard<std::mutex> lock(s.mu);
  s.replied.push_back(r);
}

void WritesDelivered(int64_t delivered_us) {
  if (!On()) return;
  Split& s = TheSplit();
  std::lock_guard<std::mutex> lock(s.mu);
  for (const auto& r : s.replied) {
    // R, the marks in order, queued, delivered: each part is the step from
    // the previous point (never negative: a mark set late counts as 0).
    std::array<int64_t, kSplitParts + 1> points{};
    points[0] = r.received_us;
    for (int m = 0; m < kMarkCount; ++m) points[static_cast<size_t>(m) + 1] = r.at[static_cast<size_t>(m)];
    points[kMarkCount + 1] = r.queued_us;
    points[kMarkCount + 2] = delivered_us;
    std::array<int64_t, kSplitParts + 2> row{};
    row[0] = r.received_us;
    int64_t prev = r.received_us, total = 0;
    for (int i = 0; i < kSplitParts; ++i) {
      const int64_t at = std::max(prev, points[static_cast<size_t>(i) + 1]);
      const int64_t part = at - prev;
      prev = at;
      total += part;
      row[static_cast<size_t>(i) + 1] = part;
      detail::Record(static_cast<Phase>(kWCore + i), part);
    }
    row[kSplitParts + 1] = total;
    detail::Record(kWTotal, total);
    auto& bucket = s.by_total[static_cast<size_t>(BucketOf(total))];
    ++bucket[0];
    for (int i = 0; i < kSplitParts; ++i) bucket[static_cast<size_t>(i) + 1] += row[static_cast<size_t>(i) + 1];
    if (s.slow_us > 0 && total >= s.slow_us) s.slow[static_cast<size_t>(s.slow_next++ % kSlowWrites)] = row;
  }
  s.replied.clear();
}

std::vector<std::array<int64_t, kSplitParts + 2>> SlowWrites() {
  Split& s = TheSplit();
  std::lock_guard<std::mutex> lock(s.mu);
  std::vector<std::array<int64_t, kSplitParts + 2>> out;
  for (int64_t i = std::max<int64_t>(0, s.slow_next - kSlowWrites); i < s.slow_next; ++i) {
    out.push_back(s.slow[static_cast<size_t>(i % kSlowWrites)]);
  }
  return out;
}

void SetSlowWriteUsForTest(int64_t us) {
  Split& s = TheSplit();
  std::lock_guard<std::mutex> lock(s.mu);
  s.slow_us = us;
}

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
  // The write split by w_total bucket, and the slow writes (see the header):
  // copied under the lock (the core takes it once per pass), formatted after.
  std::vector<std::array<int64_t, kSplitParts + 2>> by_total;  // [bucket upper, count, parts...]
  std::vector<std::array<int64_t, kSplitParts + 2>> slow;
  int64_t slow_us = 0, noted = 0;
  {
    Split& s = TheSplit();
    std::lock_guard<std::mutex> lock(s.mu);
    for (int b = 0; b < kBuckets; ++b) {
      const auto& row = s.by_total[static_cast<size_t>(b)];
      if (row[0] == 0) continue;
      auto& r = by_total.emplace_back();
      r[0] = BucketUpperUs(b);
      std::copy(row.begin(), row.end(), r.begin() + 1);
    }
    slow_us = s.slow_us;
    noted = s.slow_next;
    for (int64_t i = std::max<int64_t>(0, s.slow_next - kSlowWrites); i < s.slow_next; ++i) {
      slow.push_back(s.slow[static_cast<size_t>(i % kSlowWrites)]);
    }
  }
  auto rows = [&out](const std::vector<std::array<int64_t, kSplitParts + 2>>& v) {
    for (size_t i = 0; i < v.size(); ++i) {
      out += i ? ", [" : "[";
      for (size_t j = 0; j < v[i].size(); ++j) out += (j ? ", " : "") + std::to_string(v[i][j]);
      out += "]";
    }
  };
  out += ", \"write_split\": {\"parts\": [";
  for (int i = 0; i < kSplitParts; ++i) {
    out += i ? ", \"" : "\"";
    out += kNames[kWCore + i];
    out += "\"";
  }
  out += "], \"rows\": [";
  rows(by_total);
  out += "]}, \"slow_writes\": {\"min_us\": " + std::to_string(slow_us) + ", \"noted\": " + std::to_string(noted) +
         ", \"rows\": [";
  rows(slow);
  out += "]}}\n";
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
  {
    Split& s = TheSplit();
    std::lock_guard<std::mutex> lock(s.mu);
    s.replied.clear();
    for (auto& row : s.by_total) row.fill(0);
    s.slow_next = 0;
    s.slow_us = SlowWriteUsFromEnv();
  }
  for (auto& h : Hists()) {
    for (auto& b : h.buckets) b.store(0);
    h.count.store(0);
    h.sum.store(0);
    h.max.store(0);
  }
  detail::enabled.store(on);
}

}  // namespace aviary::server::trace
