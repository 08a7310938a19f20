// Where a request's time goes inside the server, for measuring tails
// (issue 10: p99 at fixed open-loop rates). Off unless the environment
// variable AVIARY_LATENCY_TRACE names a file: then every phase below is
// recorded into a log-linear histogram (microseconds, 32 sub-buckets per
// power of two: within ~3 %) and the file is rewritten once a second (and
// at Stop) with the cumulative histograms as JSON, so a driver can read it
// before and after a run and subtract (bench/lib/latency_trace.py).
//
// Phases (R = the frames were read, on the I/O thread):
//  - read_total / write_total: R -> the reply queued in the core's output
//    (what ZooKeeper's readlatency / updatelatency measure);
//  - core_wait: R -> the core pass that takes the request starts (queueing
//    in the inbox and the wake-up of the core thread; ~0 for an inline
//    pass);
//  - deliver: the pass's replies handed to the network (the direct socket
//    writes, or the post to an I/O thread), once per pass;
//  - group_wait: a txn proposed -> its group starts being written (the
//    previous group's fsync, the hand-off to the storage thread);
//  - fsync: one group's write + fdatasync;
//  - commit_wake: a group made durable by the storage thread -> the core
//    takes it (the wake-up of the core thread), once per group taken;
//  - pass: one core pass (ProcessBatch), once per pass;
//  - io_wait: the request's bytes arrived in the socket (the kernel's
//    receive timestamp, SO_TIMESTAMPNS, asked for only while tracing) ->
//    R: the I/O thread's wake-up and its wait for a core, once per read
//    that brought frames.
//
// Threads: Record from any thread (relaxed atomics); Start / Stop from the
// thread that starts and stops the server.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace aviary::server::trace {

enum Phase : int {
  kReadTotal,
  kWriteTotal,
  kCoreWait,
  kDeliver,
  kGroupWait,
  kFsync,
  kCommitWake,
  kPass,
  kIoWait,
  kPhaseCount
};

namespace detail {
extern std::atomic<bool> enabled;
void Record(Phase p, int64_t us);
}  // namespace detail

// Whether tracing is on (AVIARY_LATENCY_TRACE was set at Start).
inline bool On() { return detail::enabled.load(std::memory_order_relaxed); }
inline void Record(Phase p, int64_t us) {
  if (On()) detail::Record(p, us);
}
// Microseconds on the steady clock (the same as base::SystemClock::SteadyUs).
int64_t NowUs();

// Whether AVIARY_LATENCY_TRACE is set (Start will turn tracing on): the
// network then asks for receive timestamps (io_wait).
bool Requested();
// Reads AVIARY_LATENCY_TRACE; when set, turns recording on and starts the
// thread that writes the file once a second. Idempotent.
void Start();
// Writes the file a last time and stops that thread.
void Stop();

// For tests: the bucket index and upper bound (us) of a value, and the
// count / percentile of a phase recorded so far.
int BucketOf(int64_t us);
int64_t BucketUpperUs(int index);
int64_t Count(Phase p);
int64_t PercentileUs(Phase p, double q);
// The JSON the file holds.
std::string Json();
void ResetForTest(bool on);

}  // namespace aviary::server::trace
