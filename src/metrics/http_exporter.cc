// The only translation unit of the metrics part that includes cpp-httplib.
#include "metrics/http_exporter.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace aviary::metrics {

namespace {
constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";
}  // namespace

PrometheusExporter::PrometheusExporter(const Registry& registry, GaugeSource gauges)
    : registry_(registry), gauges_(std::move(gauges)) {}

PrometheusExporter::~PrometheusExporter() { Stop(); }

std::string PrometheusExporter::Render() const {
  std::vector<GaugeSample> g = gauges_ ? gauges_() : std::vector<GaugeSample>{};
  return RenderPrometheus(registry_, g);
}

bool PrometheusExporter::Start(const std::string& host, int port, std::string* error) {
  auto http = std::make_unique<httplib::Server>();
  http->new_task_queue = [] { return new httplib::ThreadPool(1); };
  // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, which
  // would let a second server share a busy port silently.
  http->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  http->set_payload_max_length(4096);
  http->set_read_timeout(5, 0);
  http->set_write_timeout(5, 0);
  http->set_keep_alive_max_count(16);
  http->Get("/metrics",
            [this](const httplib::Request&, httplib::Response& res) { res.set_content(Render(), kContentType); });
  int bound = port;
  if (port == 0) {
    bound = http->bind_to_any_port(host);
  } else if (!http->bind_to_port(host, port)) {
    bound = -1;
  }
  if (bound < 0) {
    *error = "cannot bind " + host + ":" + std::to_string(port) + " (" + std::strerror(errno) + ")";
    return false;
  }
  port_ = bound;
  http_ = std::move(http);
  thread_ = std::thread([srv = http_.get()] { srv->listen_after_bind(); });
  return true;
}

void PrometheusExporter::Stop() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
  http_.reset();
}

}  // namespace aviary::metrics
