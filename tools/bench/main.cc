// aviary-bench: a load generator for ZooKeeper-protocol servers (Aviary or
// Apache ZooKeeper). See `aviary-bench --help` and docs/PERFORMANCE.md.
#include <signal.h>

#include <cstdio>
#include <string>

#include "load.h"
#include "options.h"
#include "report.h"

int main(int argc, char** argv) {
  using namespace aviary::bench;
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
  if (o.compare.empty()) {
    RunResult r;
    r.target = EndpointsText(o.servers);
    if (!RunLoad(o, o.servers, &r, &error)) {
      std::fprintf(stderr, "aviary-bench: %s\n", error.c_str());
      return 1;
    }
    PrintRun(stdout, o, r, o.json);
    return r.lost_connections > 0 || r.bad_replies > 0 ? 1 : 0;
  }
  std::vector<TargetRuns> targets;
  for (const auto& [name, eps] : o.compare) targets.push_back({name, {}});
  // Alternate the order each repetition so neither target always runs first.
  for (int rep = 0; rep < o.reps; rep++) {
    for (size_t k = 0; k < targets.size(); k++) {
      size_t i = rep % 2 == 0 ? k : targets.size() - 1 - k;
      RunResult r;
      r.target = targets[i].name;
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
