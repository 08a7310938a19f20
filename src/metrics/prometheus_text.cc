#include "metrics/prometheus_text.h"

#include <fmt/core.h>

#include <cmath>
#include <unordered_set>

namespace aviary::metrics {

std::string PrometheusNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{:.1f}", v);
  return fmt::format("{}", v);
}

std::string EscapeLabel(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

void Header(std::string* out, const std::string& name, const std::string& help, const char* type) {
  *out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

// `labels` is "" or `key="x",` (with its trailing comma, joined below).
void SummaryLines(std::string* out, const std::string& name, const std::string& labels, const Summary& s) {
  static const std::vector<double> kBasic = {0.5};
  static const std::vector<double> kAdvanced = {0.5, 0.9, 0.99};
  const std::vector<double>& qs = s.detail() == Detail::kAdvanced ? kAdvanced : kBasic;
  std::vector<int64_t> values = s.Quantiles(qs);
  for (size_t i = 0; i < qs.size(); ++i) {
    double v = values.empty() ? std::nan("") : static_cast<double>(values[i]);
    *out += fmt::format("{}{{{}quantile=\"{}\"}} {}\n", name, labels, qs[i], PrometheusNumber(v));
  }
  Summary::Values sv = s.Read();
  std::string plain = labels.empty() ? "" : "{" + labels.substr(0, labels.size() - 1) + "}";
  *out += fmt::format("{}_count{} {}\n", name, plain, PrometheusNumber(static_cast<double>(sv.count)));
  *out += fmt::format("{}_sum{} {}\n", name, plain, PrometheusNumber(static_cast<double>(sv.sum)));
}

void RenderEntry(std::string* out, const Entry& e) {
  switch (e.kind) {
    case Kind::kCounter:
      Header(out, e.name, e.help, "counter");
      *out += fmt::format("{} {}\n", e.name, PrometheusNumber(static_cast<double>(e.counter->Get())));
      return;
    case Kind::kSummary:
      Header(out, e.name, e.help, "summary");
      SummaryLines(out, e.name, "", *e.summary);
      return;
    case Kind::kSummarySet:
      Header(out, e.name, e.help, "summary");
      for (const auto& [key, s] : e.set->Entries()) {
        SummaryLines(out, e.name, fmt::format("key=\"{}\",", EscapeLabel(key)), *s);
      }
      return;
  }
}

}  // namespace

std::string RenderPrometheus(const Registry& registry, const std::vector<GaugeSample>& gauges) {
  std::string out;
  std::unordered_set<std::string> seen;
  for (const GaugeSample& g : gauges) {
    if (!seen.insert(g.name).second) continue;
    Header(&out, g.name, g.help.empty() ? g.name : g.help, "gauge");
    out += fmt::format("{} {}\n", g.name, PrometheusNumber(g.value));
  }
  for (const Entry& e : registry.Entries()) {
    if (seen.insert(e.name).second) RenderEntry(&out, e);
  }
  return out;
}

}  // namespace aviary::metrics
