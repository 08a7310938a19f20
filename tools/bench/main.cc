// aviary-bench: a load generator for ZooKeeper-protocol servers (Aviary or
// Apache ZooKeeper). See `aviary-bench --help` and docs/perf/aviary-bench.md.
#include <signal.h>

#include <cstdio>
#include <string>

#include "load.h"
#include "options.h"
#include "report.h"
#include "selftest.h"

namespace {

using namespace aviary::bench;

// The ZooKeeper paper's read-ratio sweep: mixed at read-pct 0, step, ..., 100.
int RunSweep(Options o) {
  std::vector<RunResult> steps;
  bool failed = false;
  for (int pct = 0;; pct = std::min(100, pct + o.sweep_step)) {
    o.read_pct = pct;
    RunResult r;
    r.target = EndpointsText(o.servers);
    std::string error;
    if (!RunLoad(o, o.servers, &r, &error)) {
      std::fprintf(stderr, "aviary-bench: read-pct %d: %s\n", pct, error.c_str());
      return 1;
    }
    PrintRun(stdout, o, r, o.json);
    failed |= RunFailed(r);
    steps.push_back(std::move(r));
    if (pct == 100) break;
  }
  if (!o.json) PrintSweepTable(stdout, steps);
  return failed ? 1 : 0;
}

int RunCompare(const Options& o) {
  std::vector<TargetRuns> targets;
  for (const auto& [name, eps] : o.compare) targets.push_back({name, {}});
  // Alternate the order each repetition so neither target always runs first.
  for (int rep = 0; rep < o.reps; rep++) {
    for (size_t k = 0; k < targets.size(); k++) {
      size_t i = rep % 2 == 0 ? k : targets.size() - 1 - k;
      RunResult r;
      r.target = targets[i].name;
      std::string error;
      if (!RunLoad(o, o.compare[i].second, &r, &error)) {
        std::fprintf(stderr, "aviary-bench: %s: %s\n", targets[i].name.c_str(), error.c_str());
        return 1;
      }
      // Progress goes to stderr so --json keeps stdout machine-readable.
      std::fprintf(stderr, "rep %d/%d ", rep + 1, o.reps);
      PrintRun(stderr, o, r, false);
      targets[i].runs.push_back(std::move(r));
    }
  }
  PrintCompare(stdout, o, targets, o.json);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Options o;
  bool help = false;
  std::string error;
  if (!ParseOptions(argc, argv, &o, &help, &error)) {
    std::fprintf(stderr, "aviary-bench: %s\n%s", error.c_str(), UsageText());
    return 2;
  }
  if (help) {
    std::fputs(UsageText(), stdout);
    return 0;
  }
  if (o.self_test) return RunSelfTest() == 0 ? 0 : 1;
  if (o.workload == Workload::kSweep) {
    if (!o.compare.empty()) {
      std::fprintf(stderr, "aviary-bench: --compare does not take the sweep workload\n");
      return 2;
    }
    return RunSweep(o);
  }
  if (!o.compare.empty()) return RunCompare(o);
  RunResult r;
  r.target = EndpointsText(o.servers);
  if (!RunLoad(o, o.servers, &r, &error)) {
    std::fprintf(stderr, "aviary-bench: %s\n", error.c_str());
    return 1;
  }
  PrintRun(stdout, o, r, o.json);
  return RunFailed(r) ? 1 : 0;
}
