// Gives malloc's free memory back to the system after a phase that freed a
// lot of it (a snapshot's blocks, recovery's batches, a burst of writes):
// glibc keeps freed chunks inside its arenas, resident, until a trim;
// malloc_trim(0) returns every whole free page of every arena
// (MADV_DONTNEED). Costs a walk over the arenas' free chunks (each arena
// locked in turn: a thread allocating meanwhile waits), so it is for the end
// of such phases, not a hot path.
// Thread-safe; a no-op without glibc.
#pragma once

#include <cstddef>
#include <cstdint>

namespace aviary::server {

// Trims malloc's arenas; returns whether anything was given back.
bool ReleaseFreeHeap();

// Two malloc arenas for the whole process (glibc M_ARENA_MAX = 2: the
// main one and one shared by the other threads), unless the environment
// sets MALLOC_ARENA_MAX (then glibc's reading of it holds). glibc gives
// each thread that meets a locked arena an arena of its own (up to 8 per
// core), and the free chunks a thread arena keeps (a burst of requests, the
// snapshotter's buffers) are reused by the threads of that arena only: at
// 1M znodes ~6 MB of RSS after a fill were free chunks in 8 thread arenas
// that no trim could return (free pieces smaller than a page between live
// ones). One arena saved ~2 MB more but looked slower for sets (the I/O,
// core and log threads contending for its lock: +0.8 us of CPU per set in
// 2 of 3 noisy A/B runs); two did not. Call first in main, before any
// thread starts. Returns whether it set the limit.
bool LimitMallocArenas();

// When a server that has gone quiet trims (the core's loop, issue 10: a
// burst of writes - a fill, sessions closing - leaves free chunks in the
// arenas of the threads that ran it, several MB at 1M znodes, resident
// until a trim, and without one they stay): after at least kMinTxns txns
// applied since the last trim, once no txn has been applied for kIdleMs.
// Not thread-safe (the core thread's).
class IdleTrim {
 public:
  static constexpr int64_t kIdleMs = 500;
  static constexpr int64_t kMinTxns = 1000;
  // Called on each pass of the core's loop with the last applied zxid;
  // true when the caller should ReleaseFreeHeap() now.
  bool Due(int64_t zxid, int64_t now_ms);
  // A trim waits for the writes to stop (the loop polls sooner meanwhile).
  bool pending() const { return pending_; }

 private:
  int64_t trimmed_zxid_ = 0;  // the applied zxid at the last trim
  int64_t zxid_ = 0;          // the last zxid seen
  int64_t since_ms_ = 0;      // when zxid_ was first seen
  bool pending_ = false;
};

}  // namespace aviary::server
