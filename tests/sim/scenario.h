// One randomized simulation run per seed: the seed picks the ensemble
// (3, 5 or 7 voters, 0-2 observers), the fault schedule (crashes that lose
// unsynced log, partitions that come and go, broken connections, log
// compaction that forces SNAP), network and disk latencies and the client
// load. After the faults stop every server is restarted and healed; then a
// write must commit within the liveness bound and all servers must converge.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aviary::sim {

struct RunResult {
  uint64_t seed = 0;
  std::vector<std::string> failures;
  size_t committed = 0;
  size_t acked = 0;
  uint64_t events = 0;
  std::string summary;
};

RunResult RunSeed(uint64_t seed, bool verbose);

}  // namespace aviary::sim
