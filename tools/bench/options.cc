#include "options.h"

#include <charconv>
#include <cstring>
#include <string_view>

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
  static const std::pair<const char*, Workload> kAll[] = {{"create", Workload::kCreate},
                                                          {"set", Workload::kSet},
                                                          {"get", Workload::kGet},
                                                          {"mixed", Workload::kMixed},
                                                          {"exists", Workload::kExists}};
  for (const auto& [name, value] : kAll) {
    if (s == name) {
      *w = value;
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
         "  --servers host:port[,host:port]  servers (default 127.0.0.1:2181)\n"
         "  --clients N        sessions, one connection each (32)\n"
         "  --threads T        load threads (1)\n"
         "  --depth D          requests in flight per session (16)\n"
         "  --payload P        data bytes for create/set (100)\n"
         "  --workload W       create|set|get|mixed|exists (get)\n"
         "  --read-pct R       mixed: percent getData, rest setData (90)\n"
         "  --keys K           pre-created nodes for set/get/mixed/exists (1000)\n"
         "  --seconds S        measured duration (10)\n"
         "  --warmup S         unmeasured load before measuring (1)\n"
         "  --ops N            measure N requests instead of a duration\n"
         "  --root PATH        parent of the benchmark nodes (/bench)\n"
         "  --json             machine-readable output\n"
         "  --compare a=host:port,b=host:port   run the same load against each target,\n"
         "                     --reps times, alternating; report medians and ratios to the first\n"
         "  --reps R           repetitions per target in --compare (3)\n";
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
    if (arg == "--json") {
      o->json = true;
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
    if (arg == "--servers") {
      ok = ParseEndpoints(val, ',', &o->servers);
    } else if (arg == "--clients") {
      ok = ParseNum(val, 1, 10000, &o->clients);
    } else if (arg == "--threads") {
      ok = ParseNum(val, 1, 256, &o->threads);
    } else if (arg == "--depth") {
      ok = ParseNum(val, 1, 100000, &o->depth);
    } else if (arg == "--payload") {
      ok = ParseNum(val, 0, 1 << 20, &o->payload);
    } else if (arg == "--workload") {
      ok = ParseWorkload(val, &o->workload);
    } else if (arg == "--read-pct") {
      ok = ParseNum(val, 0, 100, &o->read_pct);
    } else if (arg == "--keys") {
      ok = ParseNum(val, 1, 10000000, &o->keys);
    } else if (arg == "--seconds") {
      ok = ParseNum(val, 0.001, 86400.0, &o->seconds);
    } else if (arg == "--warmup") {
      ok = ParseNum(val, 0.0, 3600.0, &o->warmup);
    } else if (arg == "--ops") {
      ok = ParseNum<int64_t>(val, 1, int64_t{1} << 50, &o->ops);
    } else if (arg == "--root") {
      ok = val.size() > 1 && val[0] == '/' && val.back() != '/';
      o->root = std::string(val);
    } else if (arg == "--compare") {
      ok = ParseCompare(val, o);
    } else if (arg == "--reps") {
      ok = ParseNum(val, 1, 1000, &o->reps);
    } else {
      *error = "unknown option " + std::string(arg);
      return false;
    }
    if (!ok) {
      *error = "bad value for " + std::string(arg) + ": " + std::string(val);
      return false;
    }
  }
  if (o->servers.empty()) o->servers.push_back({"127.0.0.1", 2181});
  if (o->threads > o->clients) o->threads = o->clients;
  return true;
}

}  // namespace aviary::bench
