// The metricsProvider.* keys of zoo.cfg (issue 9), as ZooKeeper 3.8 reads
// them: metricsProvider.className chooses the provider; the Prometheus
// provider (PrometheusMetricsProvider) serves /metrics on
// metricsProvider.httpHost:httpPort (default 0.0.0.0:7000).
// exportJvmInfo, numWorkerThreads, maxQueueSize and workerShutdownTimeoutMs
// are read and have no effect (no JVM; one exporter thread).
// Thread use: plain data and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aviary::config {

inline constexpr std::string_view kPrometheusProviderClass =
    "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";
inline constexpr std::string_view kDefaultProviderClass = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider";
inline constexpr std::string_view kNullProviderClass = "org.apache.zookeeper.metrics.impl.NullMetricsProvider";

struct MetricsProviderConfig {
  std::string class_name = std::string(kDefaultProviderClass);  // metricsProvider.className
  std::string http_host = "0.0.0.0";                            // metricsProvider.httpHost
  int http_port = 7000;                                         // metricsProvider.httpPort (0: the OS picks)
  bool export_jvm_info = true;                                  // metricsProvider.exportJvmInfo (no effect)

  bool prometheus() const { return class_name == kPrometheusProviderClass; }
};

struct ServerConfig;

namespace detail {
// Takes `key` when it starts with "metricsProvider.": *handled = true, and
// false with *error for a bad value or a provider class Aviary does not
// have (ZooKeeper fails to start on a class it cannot load). Keys the
// provider does not read are warnings.
bool MetricsKey(std::string_view key, std::string_view value, ServerConfig* cfg, bool* handled, std::string* error);
}  // namespace detail

}  // namespace aviary::config
