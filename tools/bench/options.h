// Command-line options of aviary-bench and their parsing. Plain values, no
// behaviour beyond parsing and validation.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace aviary::bench {

enum class Workload {
  kCreate,
  kSet,
  kGet,
  kMixed,
  kExists,
  kCreateDelete,
  kDelete,
  kChildren,
  kMulti,
  kWatch,
  kChurn,
  kSessions,
  kSweep,
};

// The pipelined workloads' I/O loop: io_uring when the kernel allows it
// (auto), or epoll.
enum class IoMode { kAuto, kEpoll };

struct Endpoint {
  std::string host;
  uint16_t port = 0;
};

struct Options {
  std::vector<Endpoint> servers;  // clients are spread over these round-robin
  int clients = 32;               // sessions (one TCP connection each)
  int threads = 1;                // load threads; clients are spread over them
  IoMode io = IoMode::kAuto;
  int depth = 16;     // requests in flight per client
  int payload = 100;  // bytes of data per create / setData
  Workload workload = Workload::kGet;
  int read_pct = 90;    // mixed: share of getData, the rest setData
  int keys = 1000;      // pre-created nodes for set/get/mixed/exists
  double seconds = 10;  // measured duration (ignored when ops > 0)
  double warmup = 1;    // seconds of load before measuring starts
  int64_t ops = 0;      // > 0: measure this many requests instead
  int session_timeout_ms = 30000;
  std::string root = "/bench";
  bool json = false;
  // --compare name=host:port[+host:port],...: run against each target in turn.
  std::vector<std::pair<std::string, std::vector<Endpoint>>> compare;
  int reps = 3;
  // Workload shapes.
  int parents = 1;      // create: sequential creates spread over this many parents
  int children = 100;   // children: children of the listed parent
  int multi_ops = 4;    // multi: setData ops per multi
  int watchers = 10;    // watch: sessions watching the one znode
  int64_t changes = 0;  // watch: number of changes (0: for --seconds)
  double hold_s = 10;   // sessions: seconds to hold them; < 0: until stdin EOF
  int sweep_step = 10;  // sweep: read-pct step
  bool payload_set = false;
  // Open loop: > 0 = total target requests/s over all sessions.
  double rate = 0;
  // Open loop: a wait for the next slot shorter than this is not slept but
  // polled (non-blocking I/O check, sched_yield, again). 0 (default): always
  // sleep - on a shared machine a polling generator loses the CPU to
  // everything else (docs/perf/aviary-bench.md).
  int spin_us = 0;
  // Open loop, epoll loop: a reply's time is when it arrived in the
  // client's socket (the kernel's receive timestamp), not when the
  // generator read it, and the generator does not wake for replies: it
  // reads them when it wakes for its next slot (--reply-at arrival).
  bool reply_at_arrival = false;
  // Open loop: every measured request's times (slot, ready, queued, the
  // reply's arrival and read; steady clock, ns) are written to this file
  // as text, one request a line (--request-log; empty: none).
  std::string request_log;
  // Request workloads: the load threads run only on these CPUs (--cpus;
  // empty: anywhere) and, with rt_priority > 0, as SCHED_FIFO threads of
  // that priority (--rt-priority): on waking (a slot, a reply) they preempt
  // any ordinary thread at once (placement.h).
  std::vector<int> cpus;
  int rt_priority = 0;
  int progress = -1;  // -1: when stderr is a tty; 0 off; 1 on
  bool self_test = false;
};

const char* WorkloadName(Workload w);
std::string EndpointsText(const std::vector<Endpoint>& eps);

// Parses argv; on failure returns false with a message in *error.
// "--help" sets *help and returns true.
bool ParseOptions(int argc, char** argv, Options* out, bool* help, std::string* error);
const char* UsageText();

}  // namespace aviary::bench
