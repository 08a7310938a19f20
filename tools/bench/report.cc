#include "report.h"

#include <algorithm>
#include <functional>

#include "placement.h"

namespace aviary::bench {

namespace {

double Us(int64_t ns) { return static_cast<double>(ns) / 1000.0; }

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double MedianOf(const std::vector<RunResult>& runs, const std::function<double(const RunResult&)>& f) {
  std::vector<double> v;
  for (const auto& r : runs) v.push_back(f(r));
  return Median(v);
}

void PrintParams(std::FILE* f, const Options& o) {
  std::fprintf(f,
               "\"workload\": \"%s\", \"clients\": %d, \"threads\": %d, \"depth\": %d, \"payload\": %d, "
               "\"keys\": %d, \"read_pct\": %d, \"seconds\": %.3f, \"warmup\": %.3f, \"ops_target\": %lld, "
               "\"mode\": \"%s\", \"rate_target\": %.1f",
               WorkloadName(o.workload), o.clients, o.threads, o.depth, o.payload, o.keys, o.read_pct, o.seconds,
               o.warmup, static_cast<long long>(o.ops), o.rate > 0 ? "open" : "closed", o.rate);
  // Where the load threads ran (--cpus, "" = anywhere; --rt-priority, 0 = not SCHED_FIFO).
  std::fprintf(f, ", \"cpus\": \"%s\", \"rt_priority\": %d", CpuListText(o.cpus).c_str(), o.rt_priority);
  switch (o.workload) {
    case Workload::kCreate:
      std::fprintf(f, ", \"parents\": %d", o.parents);
      break;
    case Workload::kChildren:
      std::fprintf(f, ", \"children\": %d", o.children);
      break;
    case Workload::kMulti:
      std::fprintf(f, ", \"multi_ops\": %d", o.multi_ops);
      break;
    case Workload::kWatch:
      std::fprintf(f, ", \"watchers\": %d, \"changes_target\": %lld", o.watchers, static_cast<long long>(o.changes));
      break;
    case Workload::kSessions:
      std::fprintf(f, ", \"hold_s\": %.1f", o.hold_s);
      break;
    case Workload::kSweep:
      std::fprintf(f, ", \"sweep_step\": %d", o.sweep_step);
      break;
    default:
      break;
  }
}

void PrintPercentiles(std::FILE* f, const char* name, const Histogram& h) {
  std::fprintf(f,
               ", \"%s\": {\"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, \"p999\": %.1f, \"max\": %.1f, "
               "\"mean\": %.1f, \"count\": %lld}",
               name, Us(h.Percentile(0.5)), Us(h.Percentile(0.9)), Us(h.Percentile(0.99)), Us(h.Percentile(0.999)),
               Us(h.max()), h.mean() / 1000, static_cast<long long>(h.count()));
}

// Fields only some workloads have.
void PrintWorkloadFields(std::FILE* f, const Options& o, const RunResult& r) {
  switch (o.workload) {
    case Workload::kWatch:
      PrintPercentiles(f, "notify_us", r.notify);
      PrintPercentiles(f, "delivery_us", r.delivery);
      std::fprintf(f, ", \"missed\": %lld, \"changes\": %lld", static_cast<long long>(r.missed),
                   static_cast<long long>(r.ops));
      break;
    case Workload::kSessions:
      std::fprintf(f, ", \"sessions\": %lld, \"connect_s\": %.3f, \"retries\": %lld",
                   static_cast<long long>(r.sessions), r.connect_s, static_cast<long long>(r.retries));
      break;
    case Workload::kChurn:
      std::fprintf(f, ", \"cycles\": %lld, \"leftover\": %lld", static_cast<long long>(r.cycles),
                   static_cast<long long>(r.leftover));
      break;
    case Workload::kMulti:
      std::fprintf(f, ", \"ops_in_multis\": %lld", static_cast<long long>(r.ops_in_multis));
      break;
    default:
      break;
  }
}

void PrintRunJsonFields(std::FILE* f, const RunResult& r) {
  std::fprintf(f,
               "\"target\": \"%s\", \"ops\": %lld, \"elapsed_s\": %.3f, \"ops_per_sec\": %.1f, \"errors\": %lld, "
               "\"lost_sessions\": %lld, \"bad_replies\": %lld, \"client_cpu_s\": %.3f, \"error_codes\": {",
               r.target.c_str(), static_cast<long long>(r.ops), r.elapsed_s, r.ops_per_sec,
               static_cast<long long>(r.errors), static_cast<long long>(r.lost_connections),
               static_cast<long long>(r.bad_replies), r.client_cpu_s);
  bool first = true;
  for (auto [code, n] : r.error_codes) {
    std::fprintf(f, "%s\"%d\": %lld", first ? "" : ", ", code, static_cast<long long>(n));
    first = false;
  }
  std::fprintf(f, "}, \"rate_achieved\": %.1f, \"late\": %lld", r.ops_per_sec, static_cast<long long>(r.late));
  if (*r.io) std::fprintf(f, ", \"io\": \"%s\"", r.io);
  if (r.client_csw >= 0) std::fprintf(f, ", \"client_context_switches\": %lld", static_cast<long long>(r.client_csw));
  PrintPercentiles(f, "latency_us", r.latency);
  if (r.open_loop && r.send_lag.count() > 0) {
    PrintPercentiles(f, "send_lag_us", r.send_lag);
    PrintPercentiles(f, "gen_lag_us", r.gen_lag);
    PrintPercentiles(f, "cap_wait_us", r.cap_wait);
    PrintPercentiles(f, "service_us", r.service);
  }
  if (r.open_loop && r.arrival.count() > 0) {
    PrintPercentiles(f, "reply_lag_us", r.reply_lag);
    PrintPercentiles(f, "arrival_latency_us", r.arrival);
  }
  if (r.open_loop && r.tail.count > 0) {
    const RunResult::Tail& t = r.tail;
    std::fprintf(f,
                 ", \"tail_split_us\": {\"from\": %.1f, \"count\": %lld, \"latency\": %.1f, \"cap_wait\": %.1f, "
                 "\"gen_lag\": %.1f, \"to_arrival\": %.1f, \"reply_lag\": %.1f}",
                 static_cast<double>(t.from_ns) / 1e3, static_cast<long long>(t.count), t.latency / 1e3,
                 t.cap_wait / 1e3, t.gen_lag / 1e3, t.to_arrival / 1e3, t.reply_lag / 1e3);
  }
}

void PrintLatencyRow(std::FILE* f, const char* name, const Histogram& h) {
  std::fprintf(f, "  %-12s %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %10lld\n", name, Us(h.Percentile(0.5)) / 1000,
               Us(h.Percentile(0.9)) / 1000, Us(h.Percentile(0.99)) / 1000, Us(h.Percentile(0.999)) / 1000,
               Us(h.max()) / 1000, h.mean() / 1e6, static_cast<long long>(h.count()));
}

}  // namespace

void PrintRun(std::FILE* f, const Options& o, const RunResult& r, bool json) {
  if (json) {
    std::fprintf(f, "{");
    PrintParams(f, o);
    std::fprintf(f, ", ");
    PrintRunJsonFields(f, r);
    PrintWorkloadFields(f, o, r);
    std::fprintf(f, "}\n");
    std::fflush(f);
    return;
  }
  std::fprintf(f, "%s: workload=%s clients=%d threads=%d depth=%d payload=%dB mode=%s", r.target.c_str(),
               WorkloadName(o.workload), o.clients, o.threads, o.depth, o.payload, o.rate > 0 ? "open" : "closed");
  if (r.read_pct >= 0) std::fprintf(f, " read-pct=%d", r.read_pct);
  if (!o.cpus.empty()) std::fprintf(f, " cpus=%s", CpuListText(o.cpus).c_str());
  if (o.rt_priority > 0) std::fprintf(f, " rt-priority=%d", o.rt_priority);
  std::fprintf(
      f, "\n  %lld ops in %.2f s = %.0f ops/s; errors %lld, lost sessions %lld, bad replies %lld, client cpu %.2f s\n",
      static_cast<long long>(r.ops), r.elapsed_s, r.ops_per_sec, static_cast<long long>(r.errors),
      static_cast<long long>(r.lost_connections), static_cast<long long>(r.bad_replies), r.client_cpu_s);
  if (o.rate > 0) {
    std::fprintf(f, "  open loop: target %.0f ops/s, achieved %.0f ops/s, sent late %lld\n", o.rate, r.ops_per_sec,
                 static_cast<long long>(r.late));
  }
  for (auto [code, n] : r.error_codes) std::fprintf(f, "  error %d: %lld\n", code, static_cast<long long>(n));
  if (o.workload == Workload::kWatch) {
    std::fprintf(f, "  watchers %lld, changes %lld, missed notifications %lld\n", static_cast<long long>(r.watchers),
                 static_cast<long long>(r.ops), static_cast<long long>(r.missed));
  } else if (o.workload == Workload::kSessions) {
    std::fprintf(f, "  sessions %lld established in %.3f s (%lld retried handshakes)\n",
                 static_cast<long long>(r.sessions), r.connect_s, static_cast<long long>(r.retries));
  } else if (o.workload == Workload::kChurn) {
    std::fprintf(f, "  cycles %lld, ephemerals left behind %lld\n", static_cast<long long>(r.cycles),
                 static_cast<long long>(r.leftover));
  } else if (o.workload == Workload::kMulti) {
    std::fprintf(f, "  ops inside multis %lld\n", static_cast<long long>(r.ops_in_multis));
  }
  std::fprintf(f, "  %-12s %9s %9s %9s %9s %9s %9s %10s\n", "latency ms", "p50", "p90", "p99", "p99.9", "max", "mean",
               "count");
  PrintLatencyRow(f, o.workload == Workload::kWatch ? "setData" : "request", r.latency);
  if (r.open_loop && r.send_lag.count() > 0) {
    PrintLatencyRow(f, "  send lag", r.send_lag);
    PrintLatencyRow(f, "   own lag", r.gen_lag);
    PrintLatencyRow(f, "   cap wait", r.cap_wait);
    PrintLatencyRow(f, "  service", r.service);
  }
  if (r.open_loop && r.arrival.count() > 0) {
    PrintLatencyRow(f, "  reply lag", r.reply_lag);
    PrintLatencyRow(f, "to arrival", r.arrival);
  }
  if (r.open_loop && r.tail.count > 0) {
    const RunResult::Tail& t = r.tail;
    std::fprintf(f,
                 "  slowest 1%% (>= %.3f ms, %lld requests), mean ms: cap wait %.3f, own lag %.3f, to arrival %.3f, "
                 "reply lag %.3f\n",
                 static_cast<double>(t.from_ns) / 1e6, static_cast<long long>(t.count), t.cap_wait / 1e6,
                 t.gen_lag / 1e6, t.to_arrival / 1e6, t.reply_lag / 1e6);
  }
  if (o.workload == Workload::kWatch) {
    PrintLatencyRow(f, "notify all", r.notify);
    PrintLatencyRow(f, "per watcher", r.delivery);
  }
  std::fflush(f);
}

void PrintSweepTable(std::FILE* f, const std::vector<RunResult>& steps) {
  std::fprintf(f, "\nsweep (read-ratio, mixed getData/setData):\n  %6s %12s %9s %9s %9s %9s %7s\n", "read%", "ops/s",
               "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "errors");
  for (const auto& r : steps) {
    const Histogram& h = r.latency;
    std::fprintf(f, "  %6d %12.0f %9.3f %9.3f %9.3f %9.3f %7lld\n", r.read_pct, r.ops_per_sec,
                 Us(h.Percentile(0.5)) / 1000, Us(h.Percentile(0.9)) / 1000, Us(h.Percentile(0.99)) / 1000,
                 Us(h.Percentile(0.999)) / 1000, static_cast<long long>(r.errors + r.lost_connections + r.bad_replies));
  }
  std::fflush(f);
}

void PrintCompare(std::FILE* f, const Options& o, const std::vector<TargetRuns>& targets, bool json) {
  auto ops = [](const RunResult& r) { return r.ops_per_sec; };
  auto pct = [](double q) { return [q](const RunResult& r) { return Us(r.latency.Percentile(q)); }; };
  auto max = [](const RunResult& r) { return Us(r.latency.max()); };
  auto errors = [](const TargetRuns& t) {
    long long e = 0;
    for (const auto& r : t.runs) e += r.errors + r.lost_connections + r.bad_replies;
    return e;
  };
  double base = targets.empty() ? 0 : MedianOf(targets[0].runs, ops);
  if (json) {
    std::fprintf(f, "{");
    PrintParams(f, o);
    std::fprintf(f, ", \"reps\": %d, \"targets\": [", o.reps);
    for (size_t i = 0; i < targets.size(); i++) {
      const auto& t = targets[i];
      std::fprintf(f, "%s{\"name\": \"%s\", \"ops_per_sec\": [", i ? ", " : "", t.name.c_str());
      for (size_t j = 0; j < t.runs.size(); j++) std::fprintf(f, "%s%.1f", j ? ", " : "", t.runs[j].ops_per_sec);
      std::fprintf(
          f,
          "], \"median_ops_per_sec\": %.1f, \"median_p50_us\": %.1f, \"median_p90_us\": %.1f, \"median_p99_us\": %.1f, "
          "\"median_p999_us\": %.1f, \"median_max_us\": %.1f, \"errors\": %lld}",
          MedianOf(t.runs, ops), MedianOf(t.runs, pct(0.5)), MedianOf(t.runs, pct(0.9)), MedianOf(t.runs, pct(0.99)),
          MedianOf(t.runs, pct(0.999)), MedianOf(t.runs, max), errors(t));
    }
    std::fprintf(f, "], \"ratios\": {");
    for (size_t i = 1; i < targets.size(); i++) {
      double m = MedianOf(targets[i].runs, ops);
      std::fprintf(f, "%s\"%s/%s\": %.3f", i > 1 ? ", " : "", targets[0].name.c_str(), targets[i].name.c_str(),
                   m > 0 ? base / m : 0.0);
    }
    std::fprintf(f, "}}\n");
    return;
  }
  std::fprintf(f, "\ncompare: workload=%s clients=%d depth=%d payload=%dB seconds=%.1f reps=%d (medians)\n",
               WorkloadName(o.workload), o.clients, o.depth, o.payload, o.seconds, o.reps);
  std::fprintf(f, "  %-14s %12s %9s %9s %9s %9s %7s  runs ops/s\n", "target", "ops/s", "p50 ms", "p99 ms", "p99.9 ms",
               "max ms", "errors");
  for (const auto& t : targets) {
    std::fprintf(f, "  %-14s %12.0f %9.3f %9.3f %9.3f %9.3f %7lld ", t.name.c_str(), MedianOf(t.runs, ops),
                 MedianOf(t.runs, pct(0.5)) / 1000, MedianOf(t.runs, pct(0.99)) / 1000,
                 MedianOf(t.runs, pct(0.999)) / 1000, MedianOf(t.runs, max) / 1000, errors(t));
    for (const auto& r : t.runs) std::fprintf(f, " %.0f", r.ops_per_sec);
    std::fprintf(f, "\n");
  }
  for (size_t i = 1; i < targets.size(); i++) {
    double m = MedianOf(targets[i].runs, ops);
    std::fprintf(f, "  ratio %s/%s: %.2f\n", targets[0].name.c_str(), targets[i].name.c_str(), m > 0 ? base / m : 0.0);
  }
  std::fflush(f);
}

}  // namespace aviary::bench
