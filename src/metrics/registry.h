// Registry: the named metrics of one process, in registration order, and
// their mntr rendering (ZooKeeper 3.8's DefaultMetricsProvider dump).
//
// Owns: every Counter / Summary / SummarySet registered (stable addresses
// for the life of the registry). Gauges are not held here: they are
// sampled state (znode_count, ...) the server computes on its own thread
// and passes to the renderers (metrics/prometheus_text.h) with each dump.
// Threads: registration and dumps take a mutex (both rare); updating a
// registered metric takes none (metric.h).
// Names: ZooKeeper's own names as they are; Aviary's own metrics start
// with "aviary_" and are left out of mntr (ZooKeeper's monitoring reads
// every zk_ line; ours are on /metrics only).
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/metric.h"
#include "metrics/sample.h"

namespace aviary::metrics {

enum class Kind { kCounter, kSummary, kSummarySet };

struct Entry {
  std::string name;
  std::string help;
  Kind kind = Kind::kCounter;
  const Counter* counter = nullptr;
  const Summary* summary = nullptr;
  const SummarySet* set = nullptr;
};

class Registry {
 public:
  // Registering a name twice returns the first metric (its kind must match:
  // a mismatch is a programming error, AV_CHECK).
  Counter& AddCounter(std::string_view name, std::string_view help = {});
  Summary& AddSummary(std::string_view name, Detail detail, std::string_view help = {});
  SummarySet& AddSummarySet(std::string_view name, Detail detail, std::string_view help = {});

  // Every metric in registration order.
  std::vector<Entry> Entries() const;

  // mntr's lines for the registered ZooKeeper metrics: counters, then BASIC
  // summaries, then ADVANCED ones, then summary sets, as ZooKeeper 3.8
  // groups them: "<name>", "avg_<name>" (double) "min_" "max_" "cnt_"
  // "sum_" and for ADVANCED "p50_" "p95_" "p99_" "p999_"; a set's entries
  // as "avg_<key>_<name>"... Names starting with "aviary_" are skipped.
  std::vector<Sample> MntrSamples() const;

 private:
  struct Owned {
    Entry entry;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Summary> summary;
    std::unique_ptr<SummarySet> set;
  };
  Owned* Find(std::string_view name);

  mutable std::mutex mu_;
  std::deque<Owned> metrics_;
};

}  // namespace aviary::metrics
