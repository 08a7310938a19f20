// JSON answers as ZooKeeper's JsonOutputter writes them (Jackson, snake_case
// names): every command's own fields first, then "command" and "error".
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "admin/four_letter.h"
#include "adminserver/command_result.h"

namespace aviary::adminserver {
namespace {

using nlohmann::ordered_json;

ordered_json BufferStats(int64_t last, int64_t min, int64_t max) {
  ordered_json j;
  j["last_buffer_size"] = last;
  j["min_buffer_size"] = min;
  j["max_buffer_size"] = max;
  return j;
}

// ServerCnxn.getConnectionInfo(brief).
ordered_json Connection(const admin::ConnectionInfo& c, bool brief) {
  ordered_json j;
  j["remote_socket_address"] = c.remote_ip + ":" + std::to_string(c.remote_port);
  j["interest_ops"] = c.interest_ops;
  j["outstanding_requests"] = c.queued;
  j["packets_received"] = c.received;
  j["packets_sent"] = c.sent;
  if (brief) return j;
  j["session_id"] = c.session_id;
  j["last_operation"] = c.last_op;
  j["established"] = c.established_ms;
  j["session_timeout"] = c.session_timeout_ms;
  j["last_cxid"] = c.last_cxid;
  j["last_zxid"] = c.last_zxid;
  j["last_response_time"] = c.last_response_ms;
  j["last_latency"] = c.last_latency_ms;
  j["min_latency"] = c.min_latency_ms;
  j["avg_latency"] = c.avg_latency_ms;
  j["max_latency"] = c.max_latency_ms;
  return j;
}

void PutConnections(const admin::ServerSnapshot& s, bool brief, ordered_json* out) {
  ordered_json list = ordered_json::array();
  for (const auto& c : s.connections) list.push_back(Connection(c, brief));
  (*out)["connections"] = std::move(list);
  (*out)["secure_connections"] = ordered_json::array();  // one connection table: TLS ones are listed above
}

// ServerStats as Jackson serialises it (its getters).
ordered_json ServerStatsJson(const admin::ServerSnapshot& s) {
  ordered_json j;
  j["packets_sent"] = s.packets_sent;
  j["packets_received"] = s.packets_received;
  j["fsync_threshold_exceed_count"] = 0;
  j["client_response_stats"] =
      BufferStats(s.last_client_response_size, s.min_client_response_size, s.max_client_response_size);
  j["data_dir_size"] = s.data_dir_size;
  j["log_dir_size"] = s.log_dir_size;
  j["provider_null"] = false;
  j["server_state"] = s.server_state;
  j["last_processed_zxid"] = s.zxid;
  j["outstanding_requests"] = s.outstanding_requests;
  j["avg_latency"] = s.latency_avg_ms;
  j["max_latency"] = s.latency_max_ms;
  j["min_latency"] = s.latency_min_ms;
  j["num_alive_client_connections"] = s.alive_connections;
  j["uptime"] = s.uptime_ms;
  j["auth_failed_count"] = s.auth_failed_count;
  j["non_mtlsremote_conn_count"] = 0;
  j["non_mtlslocal_conn_count"] = 0;
  return j;
}

void PutServerStats(const admin::ServerSnapshot& s, ordered_json* out) {
  ordered_json& j = *out;
  j["version"] = s.full_version;
  j["read_only"] = s.read_only;
  j["server_stats"] = ServerStatsJson(s);
  j["client_response"] =
      BufferStats(s.last_client_response_size, s.min_client_response_size, s.max_client_response_size);
  if (s.proposal_sizes)
    j["proposal_stats"] = BufferStats(s.proposal_sizes->last, s.proposal_sizes->min, s.proposal_sizes->max);
  j["node_count"] = s.node_count;
}

// mntr's values typed as ZooKeeper's map holds them: integers as numbers,
// averages and other decimals as doubles, text as strings.
ordered_json Typed(const std::string& key, const std::string& v) {
  if (!v.empty()) {
    char* end = nullptr;
    long long i = std::strtoll(v.c_str(), &end, 10);
    bool is_int = *end == '\0';
    if (is_int && key.rfind("avg_", 0) != 0) return static_cast<int64_t>(i);
    double d = std::strtod(v.c_str(), &end);
    if (*end == '\0') return d;
  }
  return v;
}

ordered_json Monitor(const admin::ServerSnapshot& s) {
  ordered_json j = ordered_json::object();
  for (const auto& [k, v] : admin::MntrPairs(s)) j[k] = Typed(k, v);
  return j;
}

ordered_json Configuration(const admin::ServerSnapshot& s) {
  ordered_json j;
  j["client_port"] = s.client_port;
  j["data_dir"] = s.data_dir + "/version-2";
  j["data_log_dir"] = s.data_log_dir + "/version-2";
  j["tick_time"] = s.tick_time_ms;
  j["max_client_cnxns"] = s.max_client_cnxns;
  j["min_session_timeout"] = s.min_session_timeout_ms;
  j["max_session_timeout"] = s.max_session_timeout_ms;
  j["server_id"] = s.server_id;
  j["client_port_listen_backlog"] = s.client_port_listen_backlog;
  return j;
}

template <typename K, typename V>
ordered_json MapOfLists(const std::vector<std::pair<K, std::vector<V>>>& in) {
  ordered_json j = ordered_json::object();
  for (const auto& [k, list] : in) {
    ordered_json a = ordered_json::array();
    for (const V& v : list) a.push_back(v);
    if constexpr (std::is_same_v<K, std::string>) {
      j[k] = std::move(a);
    } else {
      j[std::to_string(k)] = std::move(a);
    }
  }
  return j;
}

// MultipleAddresses as Jackson serialises the bean (zabstate's addresses).
ordered_json MultipleAddresses(const std::vector<std::string>& addrs) {
  ordered_json j;
  j["empty"] = addrs.empty();
  j["all_addresses"] = addrs;
  j["all_reachable_addresses"] = addrs;
  j["one"] = addrs.empty() ? "" : addrs.front();
  j["reachable_address"] = addrs.empty() ? "" : addrs.front();
  ordered_json wild = ordered_json::array(), ports = ordered_json::array(), hosts = ordered_json::array();
  for (const std::string& a : addrs) {
    const size_t colon = a.rfind(':');
    wild.push_back("0.0.0.0" + a.substr(colon));
    ports.push_back(std::atoi(a.c_str() + colon + 1));
    hosts.push_back(a.substr(0, colon));
  }
  j["wildcard_addresses"] = wild;
  j["all_ports"] = ports;
  j["all_host_strings"] = hosts;
  j["all_reachable_addresses_or_all"] = addrs;
  j["reachable_or_one"] = addrs.empty() ? "" : addrs.front();
  return j;
}

ordered_json VotingView(const EnsembleInfo& e) {
  ordered_json j = ordered_json::object();
  for (const auto& m : e.members) {
    if (m.observer) continue;  // QuorumPeer.getVotingView: participants only
    ordered_json v;
    v["server_addresses"] = m.server_addresses;
    v["election_addresses"] = m.election_addresses;
    v["client_address"] = m.client_address;
    v["learner_type"] = m.observer ? "observer" : "participant";
    j[std::to_string(m.id)] = std::move(v);
  }
  return j;
}

void PutZabState(const CommandResult& r, ordered_json* out) {
  ordered_json& j = *out;
  const EnsembleInfo& e = r.extras.ensemble;
  if (!e.quorum) {
    j["voting"] = false;
    j["zabstate"] = "";
    return;
  }
  j["myid"] = e.my_id;
  j["is_leader"] = e.is_leader;
  j["quorum_address"] = MultipleAddresses(e.quorum_addresses);
  j["election_address"] = MultipleAddresses(e.election_addresses);
  j["client_address"] = e.client_address;
  j["voting"] = e.voting;
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(r.snap.zxid));
  j["last_zxid"] = hex;
  j["zab_epoch"] = r.snap.zxid >> 32;
  j["zab_counter"] = r.snap.zxid & 0xffffffffLL;
  j["zabstate"] = e.zab_state;
}

void PutLeader(const EnsembleInfo& e, ordered_json* out) {
  if (!e.quorum) {
    (*out)["error"] = "server is not initialized";
    return;
  }
  (*out)["is_leader"] = e.is_leader;
  (*out)["leader_id"] = e.leader_id;
  (*out)["leader_ip"] = e.leader_ip;
}

void PutDigests(const AdminExtras& x, ordered_json* out) {
  ordered_json a = ordered_json::array();
  for (const auto& d : x.digests) {
    ordered_json e;
    e["zxid"] = d.zxid;
    e["digest_version"] = d.version;
    e["digest"] = d.digest;
    a.push_back(std::move(e));
  }
  (*out)["digests"] = std::move(a);
}

void PutEnvironment(const admin::ServerSnapshot& s, ordered_json* out) {
  for (const auto& [k, v] : s.environment) (*out)[k] = v;
}

void PutWatches(CommandId id, const CommandResult& r, ordered_json* out) {
  const admin::ServerSnapshot& s = r.snap;
  if (id == CommandId::kWatchSummary) {
    (*out)["num_connections"] = s.wchs_connections;
    (*out)["num_paths"] = s.wchs_paths;
    (*out)["num_total_watches"] = s.wchs_total;
  } else if (id == CommandId::kWatches) {
    (*out)["session_id_to_watched_paths"] = MapOfLists(r.extras.watches_by_session);
  } else {
    (*out)["path_to_session_ids"] = MapOfLists(r.extras.watches_by_path);
  }
}

void PutLastSnapshot(const AdminExtras& x, ordered_json* out) {
  char hex[32];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(x.last_snapshot_zxid));
  (*out)["zxid"] = hex;  // Long.toHexString: -1 is ffffffffffffffff
  (*out)["timestamp"] = x.last_snapshot_time_s;
}

// The command's own fields (CommandResponse's data map).
void PutFields(const CommandSpec& spec, const CommandResult& r, ordered_json* out) {
  const admin::ServerSnapshot& s = r.snap;
  switch (spec.id) {
    case CommandId::kConfiguration:
      *out = Configuration(s);
      break;
    case CommandId::kConnections:
      PutConnections(s, false, out);
      break;
    case CommandId::kDirs:
      (*out)["datadir_size"] = s.data_dir_size;
      (*out)["logdir_size"] = s.log_dir_size;
      break;
    case CommandId::kDump:
      (*out)["expiry_time_to_session_ids"] = MapOfLists(r.extras.expiry_to_sessions);
      (*out)["session_id_to_ephemeral_paths"] = MapOfLists(r.extras.session_ephemerals);
      break;
    case CommandId::kEnvironment:
      PutEnvironment(s, out);
      break;
    case CommandId::kHash:
      PutDigests(r.extras, out);
      break;
    case CommandId::kGetTraceMask:
      (*out)["tracemask"] = r.extras.trace_mask;
      break;
    case CommandId::kInitialConfiguration:
      (*out)["initial_configuration"] = r.extras.initial_configuration;
      break;
    case CommandId::kIsReadOnly:
      (*out)["read_only"] = s.read_only;
      break;
    case CommandId::kLastSnapshot:
      PutLastSnapshot(r.extras, out);
      break;
    case CommandId::kLeader:
      PutLeader(r.extras.ensemble, out);
      break;
    case CommandId::kMonitor:
      *out = Monitor(s);
      break;
    case CommandId::kRestore:
      if (r.extras.restored_zxid >= 0) (*out)["last_zxid"] = r.extras.restored_zxid;
      break;
    case CommandId::kServerStats:
      PutServerStats(s, out);
      break;
    case CommandId::kStats:
      PutServerStats(s, out);
      PutConnections(s, true, out);
      break;
    case CommandId::kVotingView:
      (*out)["current_config"] = VotingView(r.extras.ensemble);
      break;
    case CommandId::kWatches:
    case CommandId::kWatchesByPath:
    case CommandId::kWatchSummary:
      PutWatches(spec.id, r, out);
      break;
    case CommandId::kZabState:
      PutZabState(r, out);
      break;
    default:
      break;  // ruok, the resets, snapshot: command and error only
  }
}

}  // namespace

bool SplitAuthInfo(const std::string& header, std::string* scheme, std::string* credentials) {
  // Java's String.split(" "): trailing empty strings dropped.
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t sp = header.find(' ', start);
    parts.push_back(header.substr(start, sp == std::string::npos ? std::string::npos : sp - start));
    if (sp == std::string::npos) break;
    start = sp + 1;
  }
  while (!parts.empty() && parts.back().empty()) parts.pop_back();
  if (parts.size() != 1 && parts.size() != 2) return false;
  *scheme = parts[0];
  *credentials = parts.size() == 2 ? parts[1] : "";
  return true;
}

std::string RenderJson(const CommandSpec& spec, const CommandResult& r) {
  ordered_json j = ordered_json::object();
  if (!r.error || spec.id == CommandId::kLeader) PutFields(spec, r, &j);
  // CommandResponse.toMap: data, then command and error; a data "error"
  // (leader's) wins over the response's null one.
  const bool data_error = j.contains("error");
  ordered_json out = ordered_json::object();
  if (data_error) out["error"] = j["error"];
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "error") out[it.key()] = it.value();
  }
  out["command"] = std::string(spec.primary);
  if (!data_error) out["error"] = r.error ? ordered_json(*r.error) : ordered_json(nullptr);
  return out.dump(2, ' ', false, ordered_json::error_handler_t::replace);
}

std::string RenderUnknown(const std::string& name) {
  ordered_json j;
  j["command"] = name;
  j["error"] = "Unknown command: " + name;
  return j.dump(2, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace aviary::adminserver
