// Command-line options of aviary-bench and their parsing. Plain values, no
// behaviour beyond parsing and validation.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace aviary::bench {

enum class Workload { kCreate, kSet, kGet, kMixed, kExists };

struct Endpoint {
  std::string host;
  uint16_t port = 0;
};

struct Options {
  std::vector<Endpoint> servers;  // clients are spread over these round-robin
  int clients = 32;               // sessions (one TCP connection each)
  int threads = 1;                // load threads; clients are spread over them
  int depth = 16;                 // requests in flight per client
  int payload = 100;              // bytes of data per create / setData
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
};

const char* WorkloadName(Workload w);
std::string EndpointsText(const std::vector<Endpoint>& eps);

// Parses argv; on failure returns false with a message in *error.
// "--help" sets *help and returns true.
bool ParseOptions(int argc, char** argv, Options* out, bool* help, std::string* error);
const char* UsageText();

}  // namespace aviary::bench
