// mntr: the ordered (name, typed value) pairs ZooKeeper 3.8's mntr prints
// (and the AdminServer's "monitor" command returns as JSON), from a
// ServerSnapshot. Names are without mntr's "zk_" prefix.
//
// Order, as ZooKeeper's MonitorCommand: version, server_state, then in an
// ensemble peer_state ("leading - broadcast", ...) and on an observer
// observer_master_id; then the gauges (ZooKeeperServer's, then the role's
// from extra_metrics: learners, synced_followers, quorum_size, ...), then
// the metrics registry's counters and summaries
// (ServerSnapshot::registry_metrics). A name already listed is not
// repeated.
// Thread use: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "admin/server_snapshot.h"
#include "metrics/sample.h"

namespace aviary::admin {

std::vector<metrics::Sample> MntrSamples(const ServerSnapshot& s);

// The gauges alone (no registry metrics, no strings): what /metrics exports
// as Prometheus gauges.
std::vector<metrics::Sample> MntrGauges(const ServerSnapshot& s);

// A value as mntr prints it (doubles as Java's Double.toString).
std::string MntrText(const metrics::MetricValue& v);

// True for the gauge names ZooKeeper 3.8 registers (ZooKeeperServer,
// QuorumZooKeeperServer, LeaderZooKeeperServer, FollowerZooKeeperServer);
// the other gauges are Aviary's own (exported as "aviary_<name>").
bool IsZooKeeperGauge(std::string_view name);

}  // namespace aviary::admin
