#include "config/metrics_config.h"

#include <fmt/core.h>

#include <array>

#include "config/config_values.h"
#include "config/zoo_config.h"

namespace aviary::config::detail {
namespace {

// Read by the Prometheus provider and without effect in Aviary.
constexpr std::array<std::string_view, 3> kNoEffect = {"numWorkerThreads", "maxQueueSize", "workerShutdownTimeoutMs"};

// ZooKeeper 3.9's HTTPS /metrics (not in 3.8): accepted, not served.
constexpr std::array<std::string_view, 2> kLaterPrefixes = {"httpsPort", "ssl."};

bool ClassName(std::string_view raw_key, std::string_view value, MetricsProviderConfig* m, std::string* error) {
  if (value == kPrometheusProviderClass || value == kDefaultProviderClass || value == kNullProviderClass) {
    m->class_name = std::string(value);
    return true;
  }
  return Invalid(
      raw_key, value,
      fmt::format("a metrics provider Aviary has ({} or {})", kPrometheusProviderClass, kDefaultProviderClass), error);
}

}  // namespace

bool MetricsKey(std::string_view key, std::string_view value, ServerConfig* cfg, bool* handled, std::string* error) {
  constexpr std::string_view kPrefix = "metricsProvider.";
  *handled = false;
  if (!key.starts_with(kPrefix)) return true;
  *handled = true;
  const std::string_view raw_key = key;
  std::string_view name = key.substr(kPrefix.size());
  MetricsProviderConfig& m = cfg->metrics_provider;
  if (name == "className") return ClassName(raw_key, value, &m, error);
  if (name == "httpHost") {
    m.http_host = std::string(value);
    return true;
  }
  if (name == "httpPort") {
    uint16_t port = 0;
    if (!PortValue(raw_key, value, true, &port, error)) return false;
    m.http_port = port;
    return true;
  }
  if (name == "exportJvmInfo") return BoolValue(raw_key, value, &m.export_jvm_info, error);
  for (std::string_view k : kNoEffect) {
    if (name == k) {
      int64_t v = 0;
      return IntValue(raw_key, value, 0, INT64_MAX, "expected an integer >= 0", &v, error);
    }
  }
  for (std::string_view p : kLaterPrefixes) {
    if (name.starts_with(p)) {
      cfg->warnings.push_back(
          fmt::format("ignoring {}={}: HTTPS /metrics is ZooKeeper 3.9's, not served", raw_key, value));
      return true;
    }
  }
  cfg->warnings.push_back(fmt::format("unknown configuration key {} (value '{}') ignored", raw_key, value));
  return true;
}

}  // namespace aviary::config::detail
