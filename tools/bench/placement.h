// Where and how aviary-bench's load threads run: --cpus (CPU affinity) and
// --rt-priority (SCHED_FIFO). An open-loop generator that is not running
// when a slot comes sends late, and that lateness is charged to the server
// it measures (latency counts from the scheduled send). On a 2-vCPU VM the
// load thread competes with the server's threads for a core and, on the
// vCPU that takes the disk's interrupts, stalls with it while durable
// writes run (docs/perf/aviary-bench.md, session 12). Off by default; both
// apply to every server measured alike.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace aviary::bench {

// "0", "0,1", "0-3", "0-1,4": CPU numbers, ascending, without repeats.
// False for anything else (empty, negative, >= 1024, a bad range).
bool ParseCpuList(std::string_view s, std::vector<int>* out);
// The inverse, in the short form ("0-2,5"); "" for an empty list.
std::string CpuListText(const std::vector<int>& cpus);

// Applies to the calling thread: its affinity to `cpus` (when not empty)
// and SCHED_FIFO at `rt_priority` (when > 0). False with *error (e.g. a
// CPU that is not online, or no permission for SCHED_FIFO).
bool PlaceThread(const std::vector<int>& cpus, int rt_priority, std::string* error);

}  // namespace aviary::bench
