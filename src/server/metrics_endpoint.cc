#include "server/metrics_endpoint.h"

#include <chrono>
#include <future>

#include "admin/mntr.h"
#include "base/log.h"
#include "metrics/server_metrics.h"
#include "server/core.h"

namespace aviary::server {

namespace {
constexpr auto kCoreAnswerTimeout = std::chrono::seconds(2);

std::vector<metrics::GaugeSample> ToGauges(const std::vector<metrics::Sample>& samples) {
  std::vector<metrics::GaugeSample> out;
  out.reserve(samples.size());
  for (const metrics::Sample& s : samples) {
    double v = 0;
    if (const auto* i = std::get_if<int64_t>(&s.value)) {
      v = static_cast<double>(*i);
    } else if (const auto* d = std::get_if<double>(&s.value)) {
      v = *d;
    } else {
      continue;  // text (version, server_state): not a gauge
    }
    out.push_back({admin::IsZooKeeperGauge(s.name) ? s.name : "aviary_" + s.name, v, {}});
  }
  return out;
}
}  // namespace

MetricsEndpoint::MetricsEndpoint(Core* core, config::MetricsProviderConfig cfg) : core_(core), cfg_(std::move(cfg)) {}

MetricsEndpoint::~MetricsEndpoint() { Stop(); }

bool MetricsEndpoint::Start() {
  if (!cfg_.prometheus()) return false;
  exporter_ = std::make_unique<metrics::PrometheusExporter>(metrics::Default(), [this] { return Gauges(); });
  std::string error;
  if (!exporter_->Start(cfg_.http_host, cfg_.http_port, &error)) {
    AV_LOG(kError, "metrics: cannot serve /metrics: {}; running without it", error);
    exporter_.reset();
    return false;
  }
  AV_LOG(kInfo, "metrics: serving /metrics on {}:{} (Prometheus text format)", cfg_.http_host, exporter_->port());
  return true;
}

void MetricsEndpoint::Stop() {
  if (exporter_) exporter_->Stop();
  exporter_.reset();
}

std::vector<metrics::GaugeSample> MetricsEndpoint::Gauges() {
  auto answer = std::make_shared<std::promise<std::vector<metrics::Sample>>>();
  std::future<std::vector<metrics::Sample>> fut = answer->get_future();
  core_->PostCall([answer](Core& core, int64_t now_ms) { answer->set_value(core.MetricsGauges(now_ms)); });
  std::lock_guard<std::mutex> lock(mu_);
  if (fut.wait_for(kCoreAnswerTimeout) == std::future_status::ready) last_ = ToGauges(fut.get());
  return last_;
}

void NoteRecoveryMetrics(const storage::RecoveryResult& r, int64_t elapsed_ms) {
  metrics::ServerMetrics& m = metrics::Server();
  m.db_init_time.Add(elapsed_ms);
  m.startup_txns_loaded.Add(static_cast<int64_t>(r.txns_replayed));
}

}  // namespace aviary::server
