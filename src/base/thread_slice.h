// Latency-sensitive threads ask the scheduler for a short time slice.
//
// Linux 6.12+ (EEVDF) lets a SCHED_OTHER thread request its slice
// (sched_attr.sched_runtime, 0.1-100 ms; the default is 0.75 ms x (1 +
// log2 CPUs)). A thread with a shorter slice has an earlier virtual
// deadline when it wakes, so it preempts a running thread with a longer
// one at once instead of waiting up to that thread's slice: on a machine
// shared with CPU-bound work (builds, a JVM's compiler and GC threads), a
// request no longer waits milliseconds for the I/O or core thread to be
// scheduled. The thread's share of the CPU is unchanged (the same weight
// and nice level); it only runs sooner and in shorter pieces. Older
// kernels ignore sched_runtime for SCHED_OTHER; failures are ignored.
//
// The server's request path (network I/O threads, core thread, storage
// thread) and aviary-bench's open-loop threads call
// RequestShortSlice(ShortSliceUs()) as each thread starts. ShortSliceUs()
// is the environment variable AVIARY_SCHED_SLICE_US, 0 (the kernel's
// default: nothing is requested) when unset: on the shared 2-core VM it
// did not measurably lower the tails (docs/perf/pipeline.md, session 8),
// so it is an opt-in for machines where it does.
#pragma once

#include <cstdint>

namespace aviary::base {

// AVIARY_SCHED_SLICE_US in microseconds (read once), 0 when unset or invalid.
int64_t ShortSliceUs();
// Asks for a slice of `us` microseconds for the calling thread, keeping its
// policy and nice level (real-time threads are left alone); true when the
// kernel took it. us <= 0: nothing is done (false).
bool RequestShortSlice(int64_t us = ShortSliceUs());
// The calling thread's slice in microseconds as the kernel reports it (0
// when it reports none): for tests.
int64_t CurrentSliceUs();

}  // namespace aviary::base
