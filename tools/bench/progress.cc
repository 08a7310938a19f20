#include "progress.h"

#include <chrono>
#include <cstdio>

namespace aviary::bench {

void Progress::Publish(int64_t ops, Histogram* delta) {
  std::lock_guard lock(mu_);
  ops_ += ops;
  hist_.Merge(*delta);
  delta->Clear();
}

void Progress::Snapshot(int64_t* ops, int64_t* p99_ns) {
  std::lock_guard lock(mu_);
  *ops = ops_;
  *p99_ns = hist_.Percentile(0.99);
}

void ProgressFeed::Tick(int64_t now_ns) {
  if (!p_ || now_ns < next_ns_) return;
  next_ns_ = now_ns + 250'000'000;
  Flush();
}

void ProgressFeed::Flush() {
  if (!p_ || ops_ == 0) return;
  p_->Publish(ops_, &delta_);
  ops_ = 0;
}

ProgressPrinter::ProgressPrinter(Progress* p, const char* label) : p_(p), label_(label) {
  if (p_) thread_ = std::thread([this] { Loop(); });
}

ProgressPrinter::~ProgressPrinter() {
  if (!p_) return;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ProgressPrinter::Loop() {
  auto start = std::chrono::steady_clock::now();
  int64_t last_ops = 0;
  for (int tick = 1;; tick++) {
    std::unique_lock lock(mu_);
    if (cv_.wait_until(lock, start + std::chrono::seconds(tick), [this] { return stop_; })) return;
    lock.unlock();
    int64_t ops = 0, p99 = 0;
    p_->Snapshot(&ops, &p99);
    std::fprintf(stderr, "[%4ds] %s: ops %lld  now %lld/s  p99 %.3f ms\n", tick, label_, static_cast<long long>(ops),
                 static_cast<long long>(ops - last_ops), static_cast<double>(p99) / 1e6);
    std::fflush(stderr);
    last_ops = ops;
  }
}

}  // namespace aviary::bench
