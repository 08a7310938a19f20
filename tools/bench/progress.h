// The once-a-second progress line of aviary-bench on stderr ("ops so far,
// current ops/s, p99 so far"). Load threads Publish() their deltas a few
// times a second (a mutex and a histogram merge, never per request); a
// Printer thread reads them. Disabled progress costs nothing: Publish is
// never called and no thread is started.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "histogram.h"

namespace aviary::bench {

class Progress {
 public:
  // Adds `ops` measured requests and their latencies; clears *delta.
  void Publish(int64_t ops, Histogram* delta);
  void Snapshot(int64_t* ops, int64_t* p99_ns);

 private:
  std::mutex mu_;
  int64_t ops_ = 0;
  Histogram hist_;
};

// Per-thread helper: records into a private delta and publishes it every
// 250 ms. A null Progress turns it into a no-op.
class ProgressFeed {
 public:
  explicit ProgressFeed(Progress* p) : p_(p) {}
  void Record(int64_t latency_ns) {
    if (!p_) return;
    delta_.Record(latency_ns);
    ops_++;
  }
  void Tick(int64_t now_ns);
  void Flush();

 private:
  Progress* p_;
  Histogram delta_;
  int64_t ops_ = 0;
  int64_t next_ns_ = 0;
};

// Prints "[  3s] ops N  now X/s  p99 Y ms" to stderr every second until
// destroyed. `label` names the run (e.g. "get").
class ProgressPrinter {
 public:
  ProgressPrinter(Progress* p, const char* label);
  ~ProgressPrinter();

 private:
  void Loop();
  Progress* p_;
  const char* label_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace aviary::bench
