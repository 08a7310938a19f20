// MetricsEndpoint: /metrics for the Prometheus provider (issue 9), when
// zoo.cfg asks for it (metricsProvider.className = ZooKeeper's
// PrometheusMetricsProvider). Renders the process registry
// (metrics::Default()) plus mntr's gauges sampled on the core thread at each
// scrape (Core::MetricsGauges through Core::PostCall, waited for at most
// 2 s; the last sample is served if the core does not answer in time).
// Gauge names ZooKeeper registers are exported as they are, Aviary's own
// (learner_apply_mismatches, the legacy followers, ...) as "aviary_<name>".
//
// Threads: Start/Stop on the server's thread; scrapes on the exporter's.
// A port that cannot be bound is logged and the server runs on without it.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "config/metrics_config.h"
#include "metrics/http_exporter.h"
#include "storage/recovery.h"

namespace aviary::server {

class Core;

class MetricsEndpoint {
 public:
  MetricsEndpoint(Core* core, config::MetricsProviderConfig cfg);
  ~MetricsEndpoint();

  // Serves /metrics when the Prometheus provider is configured; true when
  // serving (the bound port is port()).
  bool Start();
  void Stop();
  int port() const { return exporter_ ? exporter_->port() : -1; }

 private:
  std::vector<metrics::GaugeSample> Gauges();

  Core* core_;
  config::MetricsProviderConfig cfg_;
  std::unique_ptr<metrics::PrometheusExporter> exporter_;
  std::mutex mu_;
  std::vector<metrics::GaugeSample> last_;  // the last gauges the core gave
};

// Recovery at start: dbinittime and startup_txns_loaded.
void NoteRecoveryMetrics(const storage::RecoveryResult& r, int64_t elapsed_ms);

}  // namespace aviary::server
