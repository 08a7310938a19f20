// sim_zab: runs the deterministic ZAB simulation (tests/sim/scenario.h).
//   sim_zab --seed N [-v]      one seed; -v prints the trace
//   sim_zab --seeds A..B [-j] seeds A to B inclusive (soak runs)
// Exit status 1 if any seed failed; each failing seed is printed with its
// failures and the command that reproduces it.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/log.h"
#include "scenario.h"

namespace {

int Usage() {
  std::fprintf(stderr, "usage: sim_zab --seed N [-v] | --seeds A..B\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t first = 1, last = 200;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-v") {
      verbose = true;
    } else if (arg == "--seed" && i + 1 < argc) {
      first = last = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--seeds" && i + 1 < argc) {
      std::string range = argv[++i];
      size_t dots = range.find("..");
      if (dots == std::string::npos) return Usage();
      first = std::strtoull(range.substr(0, dots).c_str(), nullptr, 10);
      last = std::strtoull(range.substr(dots + 2).c_str(), nullptr, 10);
    } else {
      return Usage();
    }
  }
  aviary::log::SetLevel(verbose ? aviary::log::kInfo : aviary::log::kError);
  uint64_t failed = 0, txns = 0, events = 0;
  for (uint64_t seed = first; seed <= last; ++seed) {
    aviary::sim::RunResult r = aviary::sim::RunSeed(seed, verbose);
    txns += r.committed;
    events += r.events;
    if (verbose || first == last) std::printf("%s\n", r.summary.c_str());
    if (r.failures.empty()) continue;
    ++failed;
    std::printf("FAIL %s\n", r.summary.c_str());
    for (const auto& f : r.failures) std::printf("  %s\n", f.c_str());
    std::printf("  reproduce: sim_zab --seed %llu -v\n", static_cast<unsigned long long>(seed));
    std::fflush(stdout);
  }
  std::printf("%llu seeds (%llu..%llu), %llu failed, %llu txns committed, %llu events\n",
              static_cast<unsigned long long>(last - first + 1), static_cast<unsigned long long>(first),
              static_cast<unsigned long long>(last), static_cast<unsigned long long>(failed),
              static_cast<unsigned long long>(txns), static_cast<unsigned long long>(events));
  return failed == 0 ? 0 : 1;
}
