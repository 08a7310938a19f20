#include "admin/mntr.h"

#include <array>
#include <charconv>
#include <unordered_set>

#include "admin/four_letter.h"
#include "admin/java_format.h"

namespace aviary::admin {
namespace {

// extra_metrics carry text: read back integers and decimals as numbers.
metrics::MetricValue Typed(const std::string& text) {
  int64_t i = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
  if (ec == std::errc() && p == text.data() + text.size() && !text.empty()) return i;
  double d = 0;
  auto [q, ec2] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (ec2 == std::errc() && q == text.data() + text.size() && !text.empty()) return d;
  return text;
}

void ServerGauges(const ServerSnapshot& s, std::vector<metrics::Sample>* p) {
  auto add = [p](std::string_view k, metrics::MetricValue v) { p->push_back({std::string(k), std::move(v)}); };
  // Gauge order as ZooKeeper 3.8.0 prints them (its metrics map iteration order).
  add("ephemerals_count", s.ephemerals_count);
  add("num_alive_connections", s.alive_connections);
  add("avg_latency", RoundLatency4(s.latency_avg_ms));
  add("outstanding_requests", s.outstanding_requests);
  add("znode_count", s.node_count);
  add("global_sessions", s.global_sessions);
  add("non_mtls_remote_conn_count", int64_t{0});
  add("last_client_response_size", s.last_client_response_size);
  add("packets_sent", s.packets_sent);
  add("packets_received", s.packets_received);
  add("max_client_response_size", s.max_client_response_size);
  add("connection_drop_probability", 0.0);
  add("watch_count", s.watch_count);
  add("auth_failed_count", s.auth_failed_count);
  add("min_latency", s.latency_min_ms);
  add("max_file_descriptor_count", s.max_fd_count);
  add("approximate_data_size", s.approximate_data_size);
  add("open_file_descriptor_count", s.open_fd_count);
  add("local_sessions", s.local_sessions);
  add("uptime", s.uptime_ms);
  add("max_latency", s.latency_max_ms);
  add("outstanding_tls_handshake", int64_t{0});
  add("min_client_response_size", s.min_client_response_size);
  add("non_mtls_local_conn_count", int64_t{0});
  for (const auto& [k, v] : s.extra_metrics) add(k, Typed(v));
}

}  // namespace

std::string MntrText(const metrics::MetricValue& v) {
  if (const auto* d = std::get_if<double>(&v)) return JavaDouble(*d);
  return metrics::FormatValue(v);
}

bool IsZooKeeperGauge(std::string_view name) {
  static const std::unordered_set<std::string_view> kNames = {
      "ephemerals_count", "num_alive_connections", "avg_latency", "outstanding_requests", "znode_count",
      "global_sessions", "non_mtls_remote_conn_count", "last_client_response_size", "packets_sent", "packets_received",
      "max_client_response_size", "connection_drop_probability", "watch_count", "auth_failed_count", "min_latency",
      "max_file_descriptor_count", "approximate_data_size", "open_file_descriptor_count", "local_sessions", "uptime",
      "max_latency", "outstanding_tls_handshake", "min_client_response_size", "non_mtls_local_conn_count",
      // QuorumZooKeeperServer, LeaderZooKeeperServer, FollowerZooKeeperServer
      "quorum_size", "learners", "synced_followers", "synced_non_voting_followers", "synced_observers", "pending_syncs",
      "leader_uptime", "last_proposal_size", "max_proposal_size", "min_proposal_size",
      // a ZooKeeper counter that the ensemble reports from its digest checker
      "digest_mismatches_count"};
  return kNames.count(name) != 0;
}

std::vector<metrics::Sample> MntrGauges(const ServerSnapshot& s) {
  std::vector<metrics::Sample> p;
  ServerGauges(s, &p);
  return p;
}

std::vector<metrics::Sample> MntrSamples(const ServerSnapshot& s) {
  std::vector<metrics::Sample> p;
  p.push_back({"version", s.full_version});
  p.push_back({"server_state", s.server_state});
  if (!s.peer_state.empty()) p.push_back({"peer_state", s.peer_state});
  if (s.observer_master_id >= 0) p.push_back({"observer_master_id", s.observer_master_id});
  ServerGauges(s, &p);
  std::unordered_set<std::string> seen;
  for (const metrics::Sample& x : p) seen.insert(x.name);
  for (const metrics::Sample& x : s.registry_metrics) {
    if (seen.insert(x.name).second) p.push_back(x);
  }
  return p;
}

std::vector<std::pair<std::string, std::string>> MntrPairs(const ServerSnapshot& s) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const metrics::Sample& x : MntrSamples(s)) out.emplace_back(x.name, MntrText(x.value));
  return out;
}

}  // namespace aviary::admin
