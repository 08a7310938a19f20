// PrometheusExporter: GET /metrics in the Prometheus text format on its own
// HTTP port, as ZooKeeper's PrometheusMetricsProvider serves it
// (metricsProvider.httpHost / httpPort, default 0.0.0.0:7000). Other paths
// answer 404.
//
// Owns: one cpp-httplib server and the thread that runs it (one worker:
// scrapes are rare). Each scrape renders the registry plus the gauges the
// GaugeSource returns at that moment (the server samples them on its core
// thread, bounded in time).
// Threads: Start/Stop from the owner's thread; the GaugeSource and the
// registry's readers run on the exporter's thread.
// Errors: a port that cannot be bound is reported by Start (the server logs
// it and runs on without /metrics; ZooKeeper would not start).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "metrics/prometheus_text.h"
#include "metrics/registry.h"

namespace httplib {
class Server;
}

namespace aviary::metrics {

class PrometheusExporter {
 public:
  using GaugeSource = std::function<std::vector<GaugeSample>()>;

  PrometheusExporter(const Registry& registry, GaugeSource gauges);
  ~PrometheusExporter();
  PrometheusExporter(const PrometheusExporter&) = delete;
  PrometheusExporter& operator=(const PrometheusExporter&) = delete;

  // Binds host:port (port 0: the OS picks) and serves on a thread. False
  // with *error when the address cannot be bound.
  bool Start(const std::string& host, int port, std::string* error);
  void Stop();
  int port() const { return port_; }

  // The body of one scrape (also used by tests without HTTP).
  std::string Render() const;

 private:
  const Registry& registry_;
  GaugeSource gauges_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = -1;
};

}  // namespace aviary::metrics
