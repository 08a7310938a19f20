// One benchmark run: sets up the nodes the workload needs, opens
// `clients` sessions, drives them from `threads` epoll threads with `depth`
// pipelined requests each, and measures completed requests and their
// latency (send to reply). Owns its sockets and threads for the duration of
// RunLoad only; nothing survives the call.
//
// Measuring: requests run for `warmup` seconds unmeasured, then replies are
// counted for `seconds` (or, with ops > 0, until `ops` requests sent after the
// warmup have been answered). In-flight requests are drained, then every
// session is closed.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "histogram.h"
#include "options.h"

namespace aviary::bench {

struct RunResult {
  std::string target;  // a label (compare mode) or the server list
  int64_t ops = 0;     // measured replies, errors included
  int64_t errors = 0;  // measured replies with err != 0
  std::map<int32_t, int64_t> error_codes;
  int64_t lost_connections = 0;  // sessions that died (EOF, protocol error)
  int64_t bad_replies = 0;       // err 0 but the body is wrong (getData size, create path)
  double elapsed_s = 0;
  double ops_per_sec = 0;
  double client_cpu_s = 0;  // CPU used by aviary-bench itself while loading
  Histogram latency;        // nanoseconds
};

// False (with *error) if setup or connecting failed; load-time failures are
// reported in the result instead.
bool RunLoad(const Options& o, const std::vector<Endpoint>& servers, RunResult* out, std::string* error);

}  // namespace aviary::bench
