#include "options.h"

#include <charconv>
#include <cstring>
#include <string_view>

#include "placement.h"

namespace aviary::bench {

namespace {

bool ParseEndpoint(std::string_view s, Endpoint* out) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  unsigned port = 0;
  auto tail = s.substr(colon + 1);
  auto [p, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), port);
  if (ec != std::errc() || p != tail.data() + tail.size() || port == 0 || port > 65535) return false;
  out->host = std::string(s.substr(0, colon));
  out->port = static_cast<uint16_t>(port);
  return true;
}

// Splits on `sep` and parses every piece as host:port.
bool ParseEndpoints(std::string_view s, char sep, std::vector<Endpoint>* out) {
  out->clear();
  while (!s.empty()) {
    auto cut = s.find(sep);
    Endpoint ep;
    if (!ParseEndpoint(s.substr(0, cut), &ep)) return false;
    out->push_back(ep);
    if (cut == std::string_view::npos) break;
    s.remove_prefix(cut + 1);
  }
  return !out->empty();
}

template <typename T>
bool ParseNum(std::string_view s, T lo, T hi, T* out) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) return false;
  *out = v;
  return true;
}

bool ParseWorkload(std::string_view s, Workload* w) {
  for (int i = 0; i <= static_cast<int>(Workload::kSweep); i++) {
    if (s == WorkloadName(static_cast<Workload>(i))) {
      *w = static_cast<Workload>(i);
      return true;
    }
  }
  return false;
}

bool ParseCompare(std::string_view s, Options* o) {
  o->compare.clear();
  while (!s.empty()) {
    auto cut = s.find(',');
    auto item = s.substr(0, cut);
    auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) return false;
    std::vector<Endpoint> eps;
    if (!ParseEndpoints(item.substr(eq + 1), '+', &eps)) return false;
    o->compare.emplace_back(std::string(item.substr(0, eq)), std::move(eps));
    if (cut == std::string_view::npos) break;
    s.remove_prefix(cut + 1);
  }
  return o->compare.size() >= 1;
}

// Applies one "--name value" option. Returns false for an unknown name;
// *ok says whether the value was valid.
bool ApplyOption(std::string_view arg, std::string_view val, Options* o, bool* ok) {
  *ok = true;
  if (arg == "--servers") {
    *ok = ParseEndpoints(val, ',', &o->servers);
  } else if (arg == "--clients") {
    *ok = ParseNum(val, 1, 20000, &o->clients);
  } else if (arg == "--threads") {
    *ok = ParseNum(val, 1, 256, &o->threads);
  } else if (arg == "--io") {
    *ok = val == "auto" || val == "epoll";
    o->io = val == "epoll" ? IoMode::kEpoll : IoMode::kAuto;
  } else if (arg == "--depth") {
    *ok = ParseNum(val, 1, 100000, &o->depth);
  } else if (arg == "--payload") {
    *ok = ParseNum(val, 0, 1 << 20, &o->payload);
    o->payload_set = true;
  } else if (arg == "--workload") {
    *ok = ParseWorkload(val, &o->workload);
  } else if (arg == "--read-pct") {
    *ok = ParseNum(val, 0, 100, &o->read_pct);
  } else if (arg == "--keys") {
    *ok = ParseNum(val, 1, 10000000, &o->keys);
  } else if (arg == "--seconds") {
    *ok = ParseNum(val, 0.001, 86400.0, &o->seconds);
  } else if (arg == "--warmup") {
    *ok = ParseNum(val, 0.0, 3600.0, &o->warmup);
  } else if (arg == "--ops") {
    *ok = ParseNum<int64_t>(val, 1, int64_t{1} << 50, &o->ops);
  } else if (arg == "--root") {
    *ok = val.size() > 1 && val[0] == '/' && val.back() != '/';
    o->root = std::string(val);
  } else if (arg == "--compare") {
    *ok = ParseCompare(val, o);
  } else if (arg == "--reps") {
    *ok = ParseNum(val, 1, 1000, &o->reps);
  } else if (arg == "--rate") {
    *ok = ParseNum(val, 0.0, 1e9, &o->rate);
  } else if (arg == "--spin-us") {
    *ok = ParseNum(val, 0, 1000000, &o->spin_us);
  } else if (arg == "--reply-at") {
    *ok = val == "read" || val == "arrival";
    o->reply_at_arrival = val == "arrival";
  } else if (arg == "--request-log") {
    *ok = !val.empty();
    o->request_log = std::string(val);
  } else if (arg == "--cpus") {
    *ok = ParseCpuList(val, &o->cpus);
  } else if (arg == "--rt-priority") {
    *ok = ParseNum(val, 0, 99, &o->rt_priority);
  } else if (arg == "--parents") {
    *ok = ParseNum(val, 1, 1000000, &o->parents);
  } else if (arg == "--children") {
    *ok = ParseNum(val, 0, 1000000, &o->children);
  } else if (arg == "--multi-ops") {
    *ok = ParseNum(val, 1, 1000, &o->multi_ops);
  } else if (arg == "--watchers") {
    *ok = ParseNum(val, 1, 20000, &o->watchers);
  } else if (arg == "--changes") {
    *ok = ParseNum<int64_t>(val, 1, int64_t{1} << 40, &o->changes);
  } else if (arg == "--hold") {
    *ok = ParseNum(val, -1.0, 1e7, &o->hold_s);
  } else if (arg == "--sweep-step") {
    *ok = ParseNum(val, 1, 100, &o->sweep_step);
  } else {
    return false;
  }
  return true;
}

// Combinations that make no sense.
bool Validate(Options* o, std::string* error) {
  if (o->servers.empty()) o->servers.push_back({"127.0.0.1", 2181});
  if (o->threads > o->clients) o->threads = o->clients;
  if (o->workload == Workload::kSweep && !o->payload_set) o->payload = 1024;
  bool pipelined =
      o->workload != Workload::kWatch && o->workload != Workload::kChurn && o->workload != Workload::kSessions;
  if (o->rate > 0 && !pipelined) {
    *error = std::string("--rate does not apply to the ") + WorkloadName(o->workload) + " workload";
    return false;
  }
  if ((!o->cpus.empty() || o->rt_priority > 0) && !pipelined) {
    *error =
        std::string("--cpus and --rt-priority apply to the request workloads, not to ") + WorkloadName(o->workload);
    return false;
  }
  if (o->rt_priority > 0 && o->spin_us > 0) {
    // A SCHED_FIFO thread's sched_yield lets no ordinary thread run: it
    // would poll its CPU away from the server.
    *error = "--spin-us does not go with --rt-priority";
    return false;
  }
  if (!o->request_log.empty() && o->rate <= 0) {
    *error = "--request-log needs the open loop (--rate)";
    return false;
  }
  if (o->reply_at_arrival && o->rate <= 0) {
    *error = "--reply-at arrival needs the open loop (--rate)";
    return false;
  }
  return true;
}

}  // namespace

const char* WorkloadName(Workload w) {
  switch (w) {
    case Workload::kCreate:
      return "create";
    case Workload::kSet:
      return "set";
    case Workload::kGet:
      return "get";
    case Workload::kMixed:
      return "mixed";
    case Workload::kExists:
      return "exists";
    case Workload::kCreateDelete:
      return "create-delete";
    case Workload::kDelete:
      return "delete";
    case Workload::kChildren:
      return "children";
    case Workload::kMulti:
      return "multi";
    case Workload::kWatch:
      return "watch";
    case Workload::kChurn:
      return "churn";
    case Workload::kSessions:
      return "sessions";
    case Workload::kSweep:
      return "sweep";
  }
  return "?";
}

std::string EndpointsText(const std::vector<Endpoint>& eps) {
  std::string s;
  for (const auto& e : eps) {
    if (!s.empty()) s += ',';
    s += e.host + ":" + std::to_string(e.port);
  }
  return s;
}

const char* UsageText() {
  return "usage: aviary-bench [options]\n"
         "Load generator for ZooKeeper-protocol servers (Aviary, Apache ZooKeeper).\n"
         "Connection and load shape:\n"
         "  --servers host:port[,host:port]  servers; sessions spread round-robin (127.0.0.1:2181)\n"
         "  --clients N        sessions, one connection each (32; up to 20000)\n"
         "  --threads T        load threads, sessions spread over them (1; watch runs\n"
         "                     on one thread)\n"
         "  --io auto|epoll    I/O loop of the request workloads: io_uring where the\n"
         "                     kernel allows it (auto, the default), else epoll\n"
         "  --depth D          requests in flight per session (16); open loop: the cap\n"
         "  --rate R           open loop: R requests/s in total, each session sends at\n"
         "                     fixed intervals (clients/R s); latency counts from the\n"
         "                     SCHEDULED send time; requests sent > 1 ms after their\n"
         "                     slot are counted as late. Default: closed loop\n"
         "  --spin-us U        open loop: a wait for the next slot shorter than U us is\n"
         "                     polled with sched_yield, not slept (0, the default: sleep)\n"
         "  --reply-at read|arrival  open loop, epoll loop: a reply counts when the\n"
         "                     generator reads it (read, the default) or when it\n"
         "                     arrived in the client's socket (arrival: the kernel's\n"
         "                     receive timestamp; the generator then wakes only for\n"
         "                     its slots and reads replies then)\n"
         "  --request-log FILE open loop: every measured request's times (slot, ready,\n"
         "                     queued, reply arrived, read; steady clock ns, one line\n"
         "                     each) to FILE, to line up with a server's trace\n"
         "  --cpus LIST        request workloads: the load threads run only on these\n"
         "                     CPUs (e.g. 0, 0-1, 0,2; default: anywhere)\n"
         "  --rt-priority P    request workloads: the load threads run SCHED_FIFO at\n"
         "                     priority P (1-99; needs root or CAP_SYS_NICE): woken\n"
         "                     for a slot or a reply, they preempt ordinary threads at\n"
         "                     once (0, the default: the normal scheduler)\n"
         "  --seconds S        measured duration (10)\n"
         "  --warmup S         unmeasured load before measuring (1)\n"
         "  --ops N            measure N requests instead of a duration\n"
         "  --root PATH        parent of the benchmark nodes (/bench)\n"
         "Workloads (--workload W, default get):\n"
         "  get | exists | set  getData / exists / setData on random keys of --keys K (1000)\n"
         "  mixed              getData with --read-pct R (90) percent, else setData\n"
         "  create             sequential creates of --payload bytes under --parents K (1)\n"
         "                     fresh parents: the tree grows (1M znodes: --ops 1000000\n"
         "                     --parents 1000)\n"
         "  create-delete      create a node then delete it (each request is one op)\n"
         "  delete             pre-creates --ops (or --keys) nodes, measures deleting them\n"
         "  children           getChildren2 on a parent with --children N (100) children\n"
         "  multi              a multi of --multi-ops N (4) setData ops; one op per multi\n"
         "  watch              --watchers N (10) sessions watch one znode, one writer\n"
         "                     changes it --changes C times (or for --seconds); reports\n"
         "                     time from sending setData to the last watcher's event\n"
         "                     (notify_us), per-watcher delivery (delivery_us), misses\n"
         "  churn              each session loops connect, create ephemeral, close; op =\n"
         "                     one cycle; checks no ephemeral is left behind\n"
         "  sessions           opens --clients sessions, prints {\"event\": \"sessions_ready\"}\n"
         "                     on stdout, holds them idle (pings) for --hold S (10) seconds\n"
         "                     or, with --hold -1, until stdin reaches EOF; then closes.\n"
         "                     Handshakes run in parallel (256 in flight, over --threads),\n"
         "                     a failed one is retried (5 attempts)\n"
         "  sweep              mixed at read-pct 0..100 by --sweep-step (10), payload\n"
         "                     1024 unless --payload is given; one result per step\n"
         "  --payload P        data bytes for create/set (100)\n"
         "Output:\n"
         "  --json             JSON lines on stdout (one per run / step)\n"
         "  --progress, --no-progress  a progress line on stderr each second (default:\n"
         "                     when stderr is a terminal)\n"
         "  --compare a=host:port,b=host:port   run the same load against each target,\n"
         "                     --reps times, alternating; report medians and ratios to the first\n"
         "  --reps R           repetitions per target in --compare (3)\n"
         "  --self-test        check the latency histogram against exact percentiles\n"
         "Exit status: 0 ok, 1 lost sessions / bad replies / missed events / leftovers, 2 usage.\n";
}

bool ParseOptions(int argc, char** argv, Options* o, bool* help, std::string* error) {
  *help = false;
  for (int i = 1; i < argc; i++) {
    std::string_view arg = argv[i];
    std::string_view val;
    bool has_val = false;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      val = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_val = true;
    }
    if (arg == "--help" || arg == "-h") {
      *help = true;
      return true;
    }
    if (arg == "--json" || arg == "--progress" || arg == "--no-progress" || arg == "--self-test") {
      if (arg == "--json") o->json = true;
      if (arg == "--progress") o->progress = 1;
      if (arg == "--no-progress") o->progress = 0;
      if (arg == "--self-test") o->self_test = true;
      continue;
    }
    if (!has_val) {
      if (i + 1 >= argc) {
        *error = std::string(arg) + " needs a value";
        return false;
      }
      val = argv[++i];
    }
    bool ok = true;
    if (!ApplyOption(arg, val, o, &ok)) {
      *error = "unknown option " + std::string(arg);
      return false;
    }
    if (!ok) {
      *error = "bad value for " + std::string(arg) + ": " + std::string(val);
      return false;
    }
  }
  return Validate(o, error);
}

}  // namespace aviary::bench
