#include "load.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace aviary::bench {

bool RunLoad(const Options& o, const std::vector<Endpoint>& servers, RunResult* out, std::string* error) {
  bool show = o.progress == 1 || (o.progress < 0 && isatty(STDERR_FILENO));
  Progress progress;
  Progress* p = show ? &progress : nullptr;
  out->read_pct = o.workload == Workload::kMixed || o.workload == Workload::kSweep ? o.read_pct : -1;
  switch (o.workload) {
    case Workload::kWatch:
      return RunWatch(o, servers, p, out, error);
    case Workload::kChurn:
      return RunChurn(o, servers, p, out, error);
    case Workload::kSessions:
      return RunSessions(o, servers, p, out, error);
    default:
      return RunStream(o, servers, p, out, error);
  }
}

void FillResult(const Stats& all, const Plan& plan, RunResult* out) {
  int64_t window = plan.ops_mode ? all.last_reply_ns - plan.measure_start : plan.measure_end - plan.measure_start;
  out->latency.Merge(all.latency);
  out->send_lag.Merge(all.send_lag);
  out->cap_wait.Merge(all.cap_wait);
  out->gen_lag.Merge(all.gen_lag);
  out->service.Merge(all.service);
  out->reply_lag.Merge(all.reply_lag);
  out->arrival.Merge(all.arrival);
  out->ops = all.ops;
  out->errors = all.errors;
  out->error_codes = all.codes;
  out->lost_connections = all.lost;
  out->bad_replies = all.bad;
  out->late = all.late;
  if (all.n_times > 0) {
    std::vector<int64_t> lat(all.n_times);
    for (size_t i = 0; i < all.n_times; ++i) lat[i] = all.times[i].done_ns - all.times[i].sched_ns;
    const size_t k = std::min(all.n_times - 1, static_cast<size_t>(0.99 * static_cast<double>(all.n_times)));
    std::nth_element(lat.begin(), lat.begin() + static_cast<std::ptrdiff_t>(k), lat.end());
    RunResult::Tail& t = out->tail;
    t.from_ns = lat[k];
    for (size_t i = 0; i < all.n_times; ++i) {
      const ReqTimes& r = all.times[i];
      if (r.done_ns - r.sched_ns < t.from_ns) continue;
      const int64_t arrived = r.arrived_ns > 0 ? r.arrived_ns : r.done_ns;
      ++t.count;
      t.latency += static_cast<double>(r.done_ns - r.sched_ns);
      t.cap_wait += static_cast<double>(r.ready_ns - r.sched_ns);
      t.gen_lag += static_cast<double>(r.queued_ns - r.ready_ns);
      t.to_arrival += static_cast<double>(arrived - r.queued_ns);
      t.reply_lag += static_cast<double>(r.done_ns - arrived);
    }
    for (double* v : {&t.latency, &t.cap_wait, &t.gen_lag, &t.to_arrival, &t.reply_lag}) {
      *v /= static_cast<double>(t.count);
    }
  }
  out->elapsed_s = static_cast<double>(std::max<int64_t>(window, 1)) / 1e9;
  out->ops_per_sec = static_cast<double>(out->ops) / out->elapsed_s;
}

bool WriteRequestLog(const std::string& path, const Stats& all, std::string* error) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    *error = "cannot write --request-log " + path;
    return false;
  }
  // Steady clock (CLOCK_MONOTONIC), ns: the clock of a server's trace too.
  std::fprintf(f, "# sched_ns ready_ns queued_ns arrived_ns read_ns done_ns conn\n");
  for (size_t i = 0; i < all.n_times; ++i) {
    const ReqTimes& r = all.times[i];
    std::fprintf(f, "%lld %lld %lld %lld %lld %lld %d\n", static_cast<long long>(r.sched_ns),
                 static_cast<long long>(r.ready_ns), static_cast<long long>(r.queued_ns),
                 static_cast<long long>(r.arrived_ns), static_cast<long long>(r.read_ns),
                 static_cast<long long>(r.done_ns), r.conn);
  }
  const bool ok = std::fclose(f) == 0;
  if (!ok) *error = "cannot write --request-log " + path;
  return ok;
}

bool RunFailed(const RunResult& r) {
  return r.lost_connections > 0 || r.bad_replies > 0 || r.missed > 0 || r.leftover > 0;
}

}  // namespace aviary::bench
