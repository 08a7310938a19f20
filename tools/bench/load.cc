#include "load.h"

#include <unistd.h>

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

bool RunFailed(const RunResult& r) {
  return r.lost_connections > 0 || r.bad_replies > 0 || r.missed > 0 || r.leftover > 0;
}

}  // namespace aviary::bench
