// Shared, read-mostly parameters of one aviary-bench run (the Plan), the
// clock helpers, and the per-thread statistics every workload loop fills.
// A Plan is written before the load threads start and then only read,
// except for the atomic op budget (--ops), the delete cursor and abort.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "histogram.h"
#include "options.h"

namespace aviary::bench {

inline int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
// CLOCK_REALTIME in ns (the clock of the kernel's receive timestamps).
inline int64_t RealNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// CPU time (user + system) of this process, in seconds.
double CpuSeconds();
// Context switches (voluntary + involuntary) of this process so far.
int64_t ContextSwitches();

// Open loop: a request sent more than this after its scheduled slot is late.
inline constexpr int64_t kLateNs = 1'000'000;

// One encoded request per key (xid 0; the sender patches it in), all in
// one buffer: get, exists and set of a key are the same bytes every time,
// so the loop copies them instead of encoding (no path copy, no codec).
struct FrameTable {
  std::string bytes;
  std::vector<uint32_t> start;  // key i: bytes [start[i], start[i + 1])
  bool empty() const { return start.empty(); }
  std::string_view at(size_t i) const { return std::string_view(bytes).substr(start[i], start[i + 1] - start[i]); }
};

struct Plan {
  Workload workload = Workload::kGet;
  int depth = 1;
  int read_pct = 90;
  int multi_ops = 4;
  int children = 0;
  std::vector<std::string> key_paths;                // get/set/mixed/exists/multi; delete: the victims
  FrameTable get_frames, exists_frames, set_frames;  // per key (BuildFrames), when the workload uses them
  std::vector<std::string> create_prefixes;          // create: "<parent>/n-" per parent
  std::string parent;                                // create-delete, churn, children: the parent
  std::string payload;
  int64_t interval_ns = 0;        // open loop: per-session send interval; 0 = closed loop
  int64_t spin_ns = 0;            // open loop: waits shorter than this are polled, not slept
  bool reply_at_arrival = false;  // open loop: Options::reply_at_arrival
  int64_t measure_start = 0;
  int64_t measure_end = 0;  // time mode
  bool ops_mode = false;
  std::atomic<int64_t> budget{0};
  std::atomic<int64_t> delete_next{0};  // delete: next victim index
  std::atomic<bool> abort{false};

  bool MayIssue(int64_t now) {
    if (abort.load(std::memory_order_relaxed)) return false;
    if (!ops_mode) return now < measure_end;
    if (now < measure_start) return true;
    return budget.fetch_sub(1, std::memory_order_relaxed) > 0;
  }
  bool MayIssueNoConsume(int64_t now) const {
    if (abort.load(std::memory_order_relaxed)) return false;
    if (!ops_mode) return now < measure_end;
    return now < measure_start || budget.load(std::memory_order_relaxed) > 0;
  }
  bool Measured(int64_t sent, int64_t received) const {
    if (ops_mode) return sent >= measure_start;
    return received >= measure_start && received < measure_end;
  }
};

// Open loop: one measured request's times (steady clock, ns; arrived 0:
// no kernel stamp), for the tail split and --request-log.
struct ReqTimes {
  int64_t sched_ns = 0, ready_ns = 0, queued_ns = 0, arrived_ns = 0, read_ns = 0;
  int64_t done_ns = 0;  // the latency's end: read_ns, or arrived_ns with --reply-at arrival
  int32_t conn = 0;
};
// At most this many per run are kept (beyond: the tail split and the log
// cover the first ones; 48 MiB).
inline constexpr size_t kMaxReqTimes = size_t{1} << 20;

struct Stats {
  Histogram latency;
  // Open loop: latency = send_lag (slot -> put in the send buffer: the
  // generator's own lateness) + service (-> reply received). With the
  // epoll loop also reply_lag (the reply arrived in the client's socket,
  // by the kernel's receive timestamp -> the generator read it: its own
  // lateness on the reply side) and arrival (slot -> the reply arrived:
  // latency without the generator's lateness in reading it).
  Histogram send_lag, service, reply_lag, arrival;
  // Open loop: send_lag = cap_wait (slot -> a reply made room under the
  // depth cap: 0 unless the session was at its cap; the server's share) +
  // gen_lag (-> put in the send buffer: the generator's own lateness).
  Histogram cap_wait, gen_lag;
  int64_t ops = 0, errors = 0, lost = 0, bad = 0, late = 0;
  int64_t first_send_ns = 0, last_reply_ns = 0;
  std::map<int32_t, int64_t> codes;
  // Open loop, measured requests: times[0, n_times). Sized before the run
  // (and so touched: no allocation or page fault in the loop); full: no more.
  std::vector<ReqTimes> times;
  size_t n_times = 0;

  void Error(int32_t err) {
    errors++;
    codes[err]++;
  }
  void Merge(const Stats& o);
};

}  // namespace aviary::bench
