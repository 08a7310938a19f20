// Clock: where the server reads time. Two clocks, as ZooKeeper uses them:
//  - wall time (ms since the Unix epoch): ctime/mtime of znodes, TTL and
//    container expiry, session-id seeding;
//  - steady time (monotonic, ms / us): session expiry buckets, ticks,
//    snapshot and purge intervals, latency.
// The server runs on SystemClock; tests inject a ManualClock and drive
// session expiry, TTL and container cleanup by advancing it, without
// sleeping.
//
// Threads: SystemClock is stateless (any thread). A ManualClock is read from
// any thread (atomics) but should be advanced by the test's driving thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace aviary::base {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t WallMs() const = 0;
  virtual int64_t SteadyUs() const = 0;
  int64_t SteadyMs() const { return SteadyUs() / 1000; }
};

// std::chrono::system_clock and steady_clock.
class SystemClock final : public Clock {
 public:
  int64_t WallMs() const override;
  int64_t SteadyUs() const override;
  // The process-wide instance (stateless).
  static const SystemClock& Get();
};

// Time that moves only when told to: Advance moves both clocks together.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t wall_ms = 1'700'000'000'000, int64_t steady_ms = 1'000'000)
      : wall_ms_(wall_ms), steady_us_(steady_ms * 1000) {}
  int64_t WallMs() const override { return wall_ms_.load(std::memory_order_relaxed); }
  int64_t SteadyUs() const override { return steady_us_.load(std::memory_order_relaxed); }
  void Advance(int64_t ms) {
    wall_ms_.fetch_add(ms, std::memory_order_relaxed);
    steady_us_.fetch_add(ms * 1000, std::memory_order_relaxed);
  }
  // Wall time alone (a clock step, as NTP may do); steady time is unchanged.
  void SetWallMs(int64_t ms) { wall_ms_.store(ms, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> wall_ms_;
  std::atomic<int64_t> steady_us_;
};

}  // namespace aviary::base
