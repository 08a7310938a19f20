// aviary-microbench: Google Benchmark micro-benchmarks of the codec, data
// tree, watch manager, write-ahead log, snapshots, CRC-32C and txn codec
// (docs/perf/micro-benchmarks.md).
// Usage: aviary-microbench [--smoke] [--benchmark_* flags]
//   --smoke  registers only the smallest size of every family (the ctest
//            `microbench_smoke` runs it so that every benchmark executes).
// Scratch files (WAL, snapshots) go to $AVIARY_MICROBENCH_DIR (default /tmp)
// and are removed when each benchmark ends.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>

#include "base/log.h"
#include "support.h"

int main(int argc, char** argv) {
  aviary::microbench::Scale scale;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--smoke") == 0) {
      scale.smoke = true;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  // Recovery logs its progress at INFO; keep the console to the results.
  aviary::log::SetLevel(aviary::log::kWarn);

  aviary::microbench::RegisterCodec(scale);
  aviary::microbench::RegisterTxnCodec(scale);
  aviary::microbench::RegisterCrc32c(scale);
  aviary::microbench::RegisterTree(scale);
  aviary::microbench::RegisterWatch(scale);
  aviary::microbench::RegisterWal(scale);
  aviary::microbench::RegisterSnapshot(scale);

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const size_t ran = benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (aviary::microbench::Failures() > 0) {
    std::fprintf(stderr, "aviary-microbench: %d benchmark(s) failed\n", aviary::microbench::Failures());
    return 1;
  }
  if (ran == 0) {
    std::fprintf(stderr, "aviary-microbench: no benchmark matched\n");
    return 1;
  }
  return 0;
}
