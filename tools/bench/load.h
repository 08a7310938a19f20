// One benchmark run. RunLoad dispatches on the workload: the pipelined
// request workloads (stream.cc: get, exists, set, mixed, create,
// create-delete, delete, children, multi), watch fan-out (watch.cc),
// session churn (churn.cc) and idle sessions (sessions.cc). Each owns its
// sockets and threads for the duration of the call only.
//
// Measuring (pipelined workloads): requests run for `warmup` seconds
// unmeasured, then replies are counted for `seconds` (or, with ops > 0,
// until `ops` requests sent after the warmup have been answered). Closed
// loop keeps `depth` requests in flight per session; open loop (--rate)
// sends at fixed intervals and measures from the scheduled send time.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "histogram.h"
#include "options.h"
#include "plan.h"
#include "progress.h"

namespace aviary::bench {

struct RunResult {
  std::string target;  // a label (compare mode) or the server list
  int64_t ops = 0;     // measured replies, errors included
  int64_t errors = 0;  // measured replies with err != 0
  std::map<int32_t, int64_t> error_codes;
  int64_t lost_connections = 0;  // sessions that died (EOF, protocol error)
  int64_t bad_replies = 0;       // err 0 but the body is wrong (data, path, count)
  double elapsed_s = 0;
  double ops_per_sec = 0;
  double client_cpu_s = 0;  // CPU used by aviary-bench itself while loading
  int64_t client_csw = -1;  // request workloads: its context switches while loading (-1: not counted)
  const char* io = "";      // request workloads: the I/O loop used ("io_uring" or "epoll")
  Histogram latency;        // nanoseconds
  // Open loop.
  bool open_loop = false;
  double rate_target = 0;
  int64_t late = 0;    // requests sent > 1 ms after their scheduled time
  Histogram send_lag;  // scheduled time -> queued for sending (the generator's lateness)
  Histogram service;   // queued for sending -> reply received
  Histogram cap_wait;  // scheduled time -> the depth cap let it go (0 when not at the cap)
  Histogram gen_lag;   // -> queued for sending: send_lag without cap_wait (the generator's own lateness)
  // epoll loop: reply arrived in the socket (kernel timestamp) -> read;
  // scheduled time -> reply arrived.
  Histogram reply_lag;
  Histogram arrival;
  // Open loop: what the slowest requests (latency >= its p99) spent their
  // time on, mean ns each: from the slot to ready (the depth cap: the
  // server's), to queued (the generator's own lateness), to the reply's
  // arrival in the socket (network + server; to the read where no stamp),
  // to the latency's end (the generator's lateness in reading it).
  struct Tail {
    int64_t count = 0;
    int64_t from_ns = 0;  // the p99
    double latency = 0, cap_wait = 0, gen_lag = 0, to_arrival = 0, reply_lag = 0;
  } tail;
  int read_pct = -1;  // sweep step
  // watch
  Histogram notify;    // setData sent -> last watcher notified
  Histogram delivery;  // setData sent -> each watcher notified
  int64_t missed = 0;  // (watcher, change) pairs never notified
  int64_t watchers = 0;
  // sessions
  int64_t sessions = 0;  // established
  double connect_s = 0;  // time to establish them all
  int64_t retries = 0;   // handshake attempts that failed and were repeated
  // churn
  int64_t cycles = 0;
  int64_t leftover = 0;  // ephemerals still present after the run
  // multi
  int64_t ops_in_multis = 0;
};

// False (with *error) if setup or connecting failed; load-time failures are
// reported in the result instead. `progress` may be null.
bool RunLoad(const Options& o, const std::vector<Endpoint>& servers, RunResult* out, std::string* error);

// Per-workload entry points (called by RunLoad).
bool RunStream(const Options& o, const std::vector<Endpoint>& servers, Progress* progress, RunResult* out,
               std::string* error);
bool RunWatch(const Options& o, const std::vector<Endpoint>& servers, Progress* progress, RunResult* out,
              std::string* error);
bool RunChurn(const Options& o, const std::vector<Endpoint>& servers, Progress* progress, RunResult* out,
              std::string* error);
bool RunSessions(const Options& o, const std::vector<Endpoint>& servers, Progress* progress, RunResult* out,
                 std::string* error);

// The merged statistics of a timed or counted run (stream, churn) as its
// result: counts, latency, and ops/s over the measured window.
void FillResult(const Stats& all, const Plan& plan, RunResult* out);
// The request times of an open-loop run as text (--request-log): a header
// line, then one request a line.
bool WriteRequestLog(const std::string& path, const Stats& all, std::string* error);

// Whether the run found the server misbehaving (exit status 1).
bool RunFailed(const RunResult& r);

}  // namespace aviary::bench
