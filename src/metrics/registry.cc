#include "metrics/registry.h"

#include <fmt/core.h>

#include <cmath>

#include "base/check.h"

namespace aviary::metrics {

std::string FormatValue(const MetricValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  double d = std::get<double>(v);
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  // Java prints an integral double with ".0"; otherwise the shortest form.
  if (d == std::floor(d) && std::fabs(d) < 1e7) return fmt::format("{:.1f}", d);
  return fmt::format("{}", d);
}

Registry::Owned* Registry::Find(std::string_view name) {
  for (Owned& o : metrics_) {
    if (o.entry.name == name) return &o;
  }
  return nullptr;
}

Counter& Registry::AddCounter(std::string_view name, std::string_view help) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Owned* o = Find(name)) {
    AV_CHECK(o->counter != nullptr, "metric {} registered twice with different kinds", name);
    return *o->counter;
  }
  Owned& o = metrics_.emplace_back();
  o.counter = std::make_unique<Counter>();
  o.entry = Entry{std::string(name), std::string(help.empty() ? name : help), Kind::kCounter, o.counter.get()};
  return *o.counter;
}

Summary& Registry::AddSummary(std::string_view name, Detail detail, std::string_view help) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Owned* o = Find(name)) {
    AV_CHECK(o->summary != nullptr, "metric {} registered twice with different kinds", name);
    return *o->summary;
  }
  Owned& o = metrics_.emplace_back();
  o.summary = std::make_unique<Summary>(detail);
  o.entry = Entry{std::string(name), std::string(help.empty() ? name : help), Kind::kSummary};
  o.entry.summary = o.summary.get();
  return *o.summary;
}

SummarySet& Registry::AddSummarySet(std::string_view name, Detail detail, std::string_view help) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Owned* o = Find(name)) {
    AV_CHECK(o->set != nullptr, "metric {} registered twice with different kinds", name);
    return *o->set;
  }
  Owned& o = metrics_.emplace_back();
  o.set = std::make_unique<SummarySet>(detail);
  o.entry = Entry{std::string(name), std::string(help.empty() ? name : help), Kind::kSummarySet};
  o.entry.set = o.set.get();
  return *o.set;
}

std::vector<Entry> Registry::Entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Entry> out;
  out.reserve(metrics_.size());
  for (const Owned& o : metrics_) out.push_back(o.entry);
  return out;
}

namespace {

void AppendSummary(const std::string& name, const Summary& s, std::vector<Sample>* out) {
  Summary::Values v = s.Read();
  out->push_back({"avg_" + name, v.avg});
  out->push_back({"min_" + name, v.min});
  out->push_back({"max_" + name, v.max});
  out->push_back({"cnt_" + name, v.count});
  out->push_back({"sum_" + name, v.sum});
  if (s.detail() != Detail::kAdvanced) return;
  static const std::vector<double> kQs = {0.5, 0.95, 0.99, 0.999};
  static const char* const kNames[] = {"p50_", "p95_", "p99_", "p999_"};
  std::vector<int64_t> q = s.Quantiles(kQs);
  for (size_t i = 0; i < kQs.size(); ++i) out->push_back({kNames[i] + name, q.empty() ? int64_t{0} : q[i]});
}

bool Ours(const std::string& name) { return name.starts_with("aviary_"); }

}  // namespace

std::vector<Sample> Registry::MntrSamples() const {
  std::vector<Entry> entries = Entries();
  std::vector<Sample> out;
  for (const Entry& e : entries) {
    if (e.kind == Kind::kCounter && !Ours(e.name)) out.push_back({e.name, e.counter->Get()});
  }
  for (Detail d : {Detail::kBasic, Detail::kAdvanced}) {
    for (const Entry& e : entries) {
      if (e.kind == Kind::kSummary && !Ours(e.name) && e.summary->detail() == d)
        AppendSummary(e.name, *e.summary, &out);
    }
  }
  for (const Entry& e : entries) {
    if (e.kind != Kind::kSummarySet || Ours(e.name)) continue;
    for (const auto& [key, s] : e.set->Entries()) AppendSummary(key + "_" + e.name, *s, &out);
  }
  return out;
}

}  // namespace aviary::metrics
