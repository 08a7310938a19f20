// conf's quorum part (ensemble_conf.h).
#include <fmt/core.h>

#include <algorithm>

#include "server/ensemble_conf.h"

namespace aviary::server {

namespace {

// InetSocketAddress host as ZooKeeper's delimitedHostString: IPv6 in brackets.
std::string Delimited(const std::string& host) { return host.find(':') != std::string::npos ? "[" + host + "]" : host; }

std::string JoinPorts(const std::vector<config::QuorumAddress>& addrs, bool election) {
  std::string out;
  for (const config::QuorumAddress& a : addrs) {
    if (!out.empty()) out += "|";
    out += std::to_string(election ? a.election_port : a.peer_port);
  }
  return out;
}

}  // namespace

std::string QuorumServerSpecString(const config::QuorumMember& m) {
  std::vector<config::QuorumAddress> addrs = m.addresses;
  std::stable_sort(addrs.begin(), addrs.end(), [](const auto& a, const auto& b) { return a.host < b.host; });
  std::string out;
  for (const config::QuorumAddress& a : addrs) {
    if (!out.empty()) out += "|";
    out += fmt::format("{}:{}:{}", Delimited(a.host), a.peer_port, a.election_port);
  }
  out += m.type == config::PeerType::kObserver ? ":observer" : ":participant";
  if (!m.client_host.empty() && !m.client_from_static) {
    out += fmt::format(";{}:{}", Delimited(m.client_host), m.client_port);
  }
  return out;
}

admin::EnsembleConf MakeEnsembleConf(const config::QuorumConfig& q) {
  admin::EnsembleConf e;
  e.init_limit = q.init_limit_ticks;
  e.sync_limit = q.sync_limit_ticks;
  e.election_alg = q.election_alg;
  const config::QuorumMember& self = q.self();
  e.election_port = JoinPorts(self.addresses, true);
  e.quorum_port = JoinPorts(self.addresses, false);
  e.peer_type = q.my_type == config::PeerType::kObserver ? 1 : 0;
  std::vector<const config::QuorumMember*> members;
  for (const config::QuorumMember& m : q.members) members.push_back(&m);
  std::sort(members.begin(), members.end(), [](const auto* a, const auto* b) { return a->id < b->id; });
  for (const config::QuorumMember* m : members) e.members.emplace_back(m->id, QuorumServerSpecString(*m));
  e.version = q.config_version;
  return e;
}

}  // namespace aviary::server
