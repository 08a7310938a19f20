#include "config/quorum_config.h"

#include <fmt/core.h>

#include <algorithm>

#include "base/check.h"

namespace aviary::config {
namespace {

std::string_view TypeName(PeerType t) { return t == PeerType::kObserver ? "observer" : "participant"; }

void CopySettings(const ServerConfig& cfg, QuorumConfig* q) {
  q->config_version = cfg.config_version;
  q->tick_ms = cfg.tick_time_ms;
  q->init_limit_ticks = cfg.init_limit;
  q->sync_limit_ticks = cfg.sync_limit;
  q->init_timeout_ms = static_cast<int64_t>(cfg.init_limit) * cfg.tick_time_ms;
  q->sync_timeout_ms = static_cast<int64_t>(cfg.sync_limit) * cfg.tick_time_ms;
  q->election_alg = cfg.election_alg;
  q->election_port_bind_retry = cfg.election_port_bind_retry;
  q->quorum_listen_on_all_ips = cfg.quorum_listen_on_all_ips;
  q->digest_stop_on_mismatch = cfg.digest_stop_on_mismatch;
  q->digest_enabled = cfg.digest_enabled;
  q->snapshot_size_factor = cfg.snapshot_size_factor;
  q->commit_log_count = cfg.commit_log_count;
  q->readonly_mode_enabled = cfg.readonly_mode_enabled;
  q->sync_enabled = cfg.sync_enabled;
  q->local_sessions_enabled = cfg.local_sessions_enabled;
  q->local_sessions_upgrading_enabled = cfg.local_sessions_upgrading_enabled;
  q->reconfig_enabled = cfg.reconfig_enabled;
  q->ssl_quorum = cfg.ssl_quorum;
  q->port_unification = cfg.quorum_port_unification;
  q->quorum_tls = cfg.quorum_tls;
}

void AddMembers(const ServerConfig& cfg, QuorumConfig* q) {
  for (const QuorumServerSpec& s : cfg.servers) {
    QuorumMember m;
    m.id = s.id;
    m.type = s.type;
    m.addresses = s.addresses;
    if (m.addresses.empty()) m.addresses.push_back({s.host, s.peer_port, s.election_port});
    m.client_host = s.client_host;
    m.client_port = s.client_port;
    q->members.push_back(std::move(m));
    (s.type == PeerType::kObserver ? q->observer_ids : q->voting_ids).push_back(s.id);
  }
  std::sort(q->members.begin(), q->members.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  std::sort(q->voting_ids.begin(), q->voting_ids.end());
  std::sort(q->observer_ids.begin(), q->observer_ids.end());
  q->quorum_size = q->voting_ids.size() / 2 + 1;
}

// Members sharing an address would fail to bind at run time; ZooKeeper
// only checks this on reconfig, so it is a warning.
void WarnDuplicateAddresses(QuorumConfig* q) {
  std::vector<std::pair<std::string, uint16_t>> seen;
  for (const QuorumMember& m : q->members) {
    for (const QuorumAddress& a : m.addresses) {
      for (uint16_t port : {a.peer_port, a.election_port}) {
        if (std::find(seen.begin(), seen.end(), std::pair{a.host, port}) != seen.end()) {
          q->warnings.push_back(fmt::format("server.{}: {}:{} is used by another quorum address", m.id, a.host, port));
        }
        seen.emplace_back(a.host, port);
      }
    }
  }
}

bool CheckSelf(const ServerConfig& cfg, QuorumConfig* q, std::string* error) {
  if (!cfg.has_myid) {
    *error = "myid file is missing";
    return false;
  }
  QuorumMember* self = nullptr;
  for (QuorumMember& m : q->members) {
    if (m.id == cfg.server_id) self = &m;
  }
  if (self == nullptr) {
    *error = fmt::format("myid: my id {} not in the peer list (no server.{} line)", cfg.server_id, cfg.server_id);
    return false;
  }
  q->my_id = self->id;
  q->my_type = self->type;
  if (cfg.peer_type_set && cfg.peer_type != self->type) {
    q->warnings.push_back(fmt::format(
        "peerType: peer type from servers list ({}) doesn't match peerType ({}); defaulting to servers list",
        TypeName(self->type), TypeName(cfg.peer_type)));
  }
  if (self->client_port == 0 && cfg.client_port_set) {
    self->client_port = cfg.client_port;
    self->client_host = cfg.client_port_address.empty() ? "0.0.0.0" : cfg.client_port_address;
    self->client_from_static = true;
  }
  if (cfg.extended_types_enabled && q->my_id > 254) {
    *error = fmt::format("myid: server id {} must be at most 254 with extendedTypesEnabled=true", q->my_id);
    return false;
  }
  if (q->my_id > 255) q->warnings.push_back(fmt::format("myid: server id {} should be 1-255", q->my_id));
  return true;
}

}  // namespace

const QuorumMember* QuorumConfig::Find(int64_t id) const {
  for (const QuorumMember& m : members) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

const QuorumMember& QuorumConfig::self() const {
  const QuorumMember* m = Find(my_id);
  AV_CHECK(m != nullptr, "QuorumConfig::self() on a standalone configuration (my id {})", my_id);
  return *m;
}

bool QuorumConfig::IsQuorum(const std::vector<int64_t>& ids) const {
  std::vector<int64_t> voters;
  for (int64_t id : ids) {
    if (std::binary_search(voting_ids.begin(), voting_ids.end(), id) &&
        std::find(voters.begin(), voters.end(), id) == voters.end()) {
      voters.push_back(id);
    }
  }
  return voters.size() >= quorum_size;
}

bool BuildQuorumConfig(const ServerConfig& cfg, QuorumConfig* out, std::string* error) {
  *out = QuorumConfig{};
  CopySettings(cfg, out);
  AddMembers(cfg, out);
  out->standalone = !IsDistributed(cfg);
  if (out->standalone) {
    out->my_id = cfg.server_id;
    return true;
  }
  if (cfg.hierarchical_quorum) {
    *error = "group.N / weight.N: hierarchical quorums are not supported (majority quorums only)";
    return false;
  }
  if (cfg.election_alg != 3) {
    *error = "electionAlg: only 3 is supported";
    return false;
  }
  if (cfg.init_limit <= 0 || cfg.sync_limit <= 0) {
    *error = cfg.init_limit <= 0 ? "initLimit is not set" : "syncLimit is not set";
    return false;
  }
  WarnDuplicateAddresses(out);
  return CheckSelf(cfg, out, error);
}

}  // namespace aviary::config
