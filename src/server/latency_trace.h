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
// The split of one write (standalone, durable log; per txn, so a slow
// group weighs as many times as it holds txns): marks set by zxid as the
// txn moves on (MarkWrite), and at the pass that hands its reply to the
// network (WriteReplied, WritesDelivered) its time R -> handed over is
// recorded as consecutive parts that add up to w_total:
//  - w_core: R -> proposed (the pass that takes it starts and prepares it);
//  - w_pass: -> handed to the log (the end of that pass: EndOfPass);
//  - w_queue: -> its group's durable write starts (waiting for a storage
//    thread or the group in flight, the append);
//  - w_write: -> that write returned (write + fdatasync);
//  - w_order: -> released (the groups before it durable too);
//  - w_wake: -> the core took it (the core thread's wake-up, or the rest of
//    the pass that was running);
//  - w_apply: -> its reply queued (applying the txns before it);
//  - w_deliver: -> the pass's replies handed to the network.
// Besides the histograms: the sums of each part per bucket of w_total
// ("write_split": what the slowest writes spent their time on) and the
// last kSlowWrites writes with w_total >= AVIARY_LATENCY_TRACE_SLOW_US
// (default 2000) with their R on the steady clock ("slow_writes": when, to
// line up with the load generator's lateness).
//
// Threads: Record from any thread (relaxed atomics); Start / Stop from the
// thread that starts and stops the server.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

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
  kWCore,  // the write split (above): kWCore .. kWDeliver add up to kWTotal
  kWPass,
  kWQueue,
  kWWrite,
  kWOrder,
  kWWake,
  kWApply,
  kWDeliver,
  kWTotal,
  kPhaseCount
};
inline constexpr int kSplitParts = kWTotal - kWCore;

// The marks of a write's way (the split above), set by zxid.
enum Mark : int { kMarkProposed, kMarkSubmitted, kMarkWriteStart, kMarkWritten, kMarkReleased, kMarkTook, kMarkCount };
inline constexpr int kSlowWrites = 4096;

namespace detail {
extern std::atomic<bool> enabled;
void Record(Phase p, int64_t us);
}  // namespace detail

// Whether tracing is on (AVIARY_LATENCY_TRACE was set at Start).
inline bool On() { return detail::enabled.load(std::memory_order_relaxed); }
inline void Record(Phase p, int64_t us) {
  if (On()) detail::Record(p, us);
}
// The write split (only while On()). kMarkProposed starts the txn's record
// (a later zxid in the same ring slot replaces an older one); kMarkSubmitted
// keeps the first time; the others the last.
void MarkWriteSlow(int64_t zxid, Mark m, int64_t us);
inline void MarkWrite(int64_t zxid, Mark m, int64_t us) {
  if (On()) MarkWriteSlow(zxid, m, us);
}
// The core queued the reply of the write `zxid` (received at R =
// received_us) at queued_us; WritesDelivered (its pass handed the replies
// to the network) records the split of every write noted since. A write
// without all its marks (an ensemble member's, or one the ring forgot) is
// not split.
void WriteReplied(int64_t zxid, int64_t received_us, int64_t queued_us);
void WritesDelivered(int64_t delivered_us);

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
// The slow writes noted so far (at most kSlowWrites, oldest first): R and
// the parts kWCore .. kWDeliver, then w_total.
std::vector<std::array<int64_t, kSplitParts + 2>> SlowWrites();
void SetSlowWriteUsForTest(int64_t us);
// The JSON the file holds.
std::string Json();
void ResetForTest(bool on);

}  // namespace aviary::server::trace
