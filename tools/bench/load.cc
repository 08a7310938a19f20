#include "load.h"

#include <unistd.h>

#include <algorithm>

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
  out->elapsed_s = static_cast<double>(std::max<int64_t>(window, 1)) / 1e9;
  out->ops_per_sec = static_cast<double>(out->ops) / out->elapsed_s;
}

bool RunFailed(const RunResult& r) {
  return r.lost_connections > 0 || r.bad_replies > 0 || r.missed > 0 || r.leftover > 0;
}

}  // namespace aviary::bench
