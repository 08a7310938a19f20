// The AdminServer's view of the ensemble (leader, voting_view, zabstate):
// the members from the configuration, the role, leader and ZAB phase from
// the status the consensus thread publishes (QuorumPeer::status, locked).
#include "server/quorum_peer.h"

namespace aviary::server {
namespace {

std::string HostPort(const std::string& host, uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

const char* ZabStateName(zab::Node::ZabState s) {
  switch (s) {
    case zab::Node::ZabState::kElection:
      return "election";
    case zab::Node::ZabState::kDiscovery:
      return "discovery";
    case zab::Node::ZabState::kSynchronization:
      return "synchronization";
    case zab::Node::ZabState::kBroadcast:
      return "broadcast";
  }
  return "";
}

adminserver::EnsembleInfo::Member MemberOf(const config::QuorumMember& m) {
  adminserver::EnsembleInfo::Member v;
  v.id = m.id;
  for (const config::QuorumAddress& a : m.addresses) {
    v.server_addresses.push_back(HostPort(a.host, a.peer_port));
    v.election_addresses.push_back(HostPort(a.host, a.election_port));
  }
  if (!m.client_host.empty() || m.client_port != 0) {
    v.client_address = HostPort(m.client_host.empty() ? "0.0.0.0" : m.client_host, m.client_port);
  }
  v.observer = m.type == config::PeerType::kObserver;
  return v;
}

}  // namespace

void QuorumPeer::FillEnsemble(adminserver::EnsembleInfo* e) const {
  const QuorumStatus st = status();
  const config::QuorumConfig& q = opts_.quorum;
  e->quorum = true;
  e->my_id = q.my_id;
  e->is_leader = st.role == zab::Role::kLeading && st.serving;
  e->leader_id = st.leader_id;
  e->zab_state = ZabStateName(st.zab_state);
  for (const config::QuorumMember& m : q.members) {
    adminserver::EnsembleInfo::Member v = MemberOf(m);
    if (m.id == st.leader_id && !m.addresses.empty()) e->leader_ip = m.addresses.front().host;
    if (m.id == q.my_id) {
      e->quorum_addresses = v.server_addresses;
      e->election_addresses = v.election_addresses;
      e->client_address = v.client_address;
      e->voting = !v.observer;
    }
    e->members.push_back(std::move(v));
  }
}

}  // namespace aviary::server
