// One load thread's share of the idle sessions (the `sessions` workload):
// opens its sessions with non-blocking connects and handshakes, at most
// `window` in flight at once, retrying a failed or timed-out attempt (up to
// kAttempts per session, with a back-off); keeps every established session
// alive with a ping every third of its negotiated timeout; closes them all
// with closeSession on request. Owned and run by one thread; the
// coordinator (sessions.cc) reads its counters only through the atomics
// below, and the rest after the thread has been joined.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "link.h"
#include "options.h"
#include "plan.h"
#include "progress.h"
#include "wire.h"

namespace aviary::bench {

class IdleGroup {
 public:
  static constexpr int kAttempts = 5;
  static constexpr int64_t kAttemptTimeoutNs = 20'000'000'000;

  // `indexes` are the session numbers this group owns (they pick the server
  // round-robin from `addrs`); `window` caps handshakes in flight.
  IdleGroup(const Options& o, const std::vector<SockAddr>& addrs, std::vector<int> indexes, int window,
            Progress* progress);
  ~IdleGroup();
  IdleGroup(const IdleGroup&) = delete;
  IdleGroup& operator=(const IdleGroup&) = delete;

  // Thread body: opens every session (until `open_deadline_ns`), publishes
  // opened(), then pings until `stop` is set, then closes them all.
  void Run(int64_t open_deadline_ns, const std::atomic<bool>& stop);

  // Set once the opening phase is over (all up, or given up); then
  // established() is the count that made it.
  bool opened() const { return opened_.load(std::memory_order_acquire); }
  int64_t established() const { return established_.load(std::memory_order_relaxed); }
  int64_t last_up_ns() const { return last_up_ns_; }

  // Read after the thread ended.
  const Stats& stats() const { return stats_; }
  int64_t retries() const { return retries_; }
  const std::string& error() const { return error_; }

 private:
  enum class State { kWaiting, kHandshake, kIdle, kClosing, kClosed };
  struct Session {
    Link link;
    State state = State::kWaiting;
    int index = 0;
    int attempts = 0;
    int64_t first_ns = 0;       // start of the first attempt (handshake latency counts from it)
    int64_t attempt_ns = 0;     // start of this attempt, or when a retry may start
    int64_t ping_every_ns = 0;  // a third of the negotiated timeout
    int64_t next_ping_ns = 0;
    int pings_out = 0;
  };

  void Open(int64_t deadline_ns);
  void StartAttempt(Session& s, int64_t now);
  void Pump(int timeout_ms);
  bool OnFrame(Session& s, std::string_view payload, int64_t now);
  // The connection died or misbehaved: closed, and (while opening) queued
  // for another attempt unless it had kAttempts.
  void Failed(Session& s, int64_t now, const char* why);
  void Expire(int64_t now);
  void PingDue(int64_t now);
  void Send(Session& s, int32_t xid, proto::OpCode op);
  void CloseAll();

  const Options& o_;
  const std::vector<SockAddr>& addrs_;
  int window_;
  int ep_ = -1;
  ProgressFeed feed_;
  std::vector<std::unique_ptr<Session>> s_;
  std::deque<Session*> waiting_;  // to be dialed (first time or retry), in order
  std::string connect_frame_;
  int64_t handshaking_ = 0, closing_ = 0, given_up_ = 0;
  std::string last_failure_;
  int64_t next_scan_ns_ = 0;
  std::atomic<int64_t> established_{0};
  std::atomic<bool> opened_{false};
  int64_t last_up_ns_ = 0;
  int64_t retries_ = 0;
  Stats stats_;
  std::string error_;
};

}  // namespace aviary::bench
