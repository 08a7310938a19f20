// The Prometheus text exposition format (version 0.0.4) of a Registry plus
// sampled gauges, as ZooKeeper 3.8's PrometheusMetricsProvider (Prometheus
// simpleclient 0.9) writes it: counters as "counter" under their own name
// (no "_total" suffix), gauges as "gauge", summaries as "summary" with
// quantile labels (BASIC: 0.5; ADVANCED: 0.5, 0.9, 0.99; NaN while empty)
// plus _count and _sum, summary sets with a "key" label.
//
// Threads: pure function of its inputs (the registry is read through its
// own thread-safe accessors).
#pragma once

#include <string>
#include <vector>

#include "metrics/registry.h"

namespace aviary::metrics {

struct GaugeSample {
  std::string name;  // the exported name (already prefixed "aviary_" when it is ours)
  double value = 0;
  std::string help;  // defaults to the name
};

// Gauges first (their names win: a registry metric of the same name is
// skipped), then the registry's metrics in registration order.
std::string RenderPrometheus(const Registry& registry, const std::vector<GaugeSample>& gauges);

// A number as the text format writes it ("5.0", "0.25", "NaN", "+Inf").
std::string PrometheusNumber(double v);

// Label value escaping (backslash, double quote, newline).
std::string EscapeLabel(const std::string& v);

}  // namespace aviary::metrics
