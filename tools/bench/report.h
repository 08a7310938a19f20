// Output of aviary-bench: one run as text or JSON, and the summary of a
// --compare series (median ops/s and latency percentiles per target, and the
// ratio of the first target's median ops/s to each other's). Stateless.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "load.h"
#include "options.h"

namespace aviary::bench {

void PrintRun(std::FILE* f, const Options& o, const RunResult& r, bool json);
// The human table of a read-ratio sweep (one row per step).
void PrintSweepTable(std::FILE* f, const std::vector<RunResult>& steps);

struct TargetRuns {
  std::string name;
  std::vector<RunResult> runs;
};

void PrintCompare(std::FILE* f, const Options& o, const std::vector<TargetRuns>& targets, bool json);

}  // namespace aviary::bench
