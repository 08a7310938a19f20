// `aviary-bench --self-test`: checks the latency histogram against exact
// percentiles of known samples (uniform, exponential, bimodal, constants,
// 1 us and 60 s extremes): every reported p50/p90/p99/p99.9/max must be
// within 1% of the exact order statistic, the mean exact, merging
// equivalent to recording. Prints each failure; returns the failure count.
#pragma once

namespace aviary::bench {

int RunSelfTest();

}  // namespace aviary::bench
