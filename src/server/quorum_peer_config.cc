// zoo.cfg's ensemble (config::QuorumConfig) as zab::Config, and the
// QuorumVerifier text ZooKeeper carries in notifications and NEWLEADER
// (QuorumMaj.toString: one "server.N=..." line per member, then version=).
#include <fmt/format.h>

#include <algorithm>

#include "server/quorum_peer.h"

namespace aviary::server {

zab::Config MakeZabConfig(const config::QuorumConfig& q) {
  zab::Config c;
  c.self = q.my_id;
  for (const config::QuorumMember& m : q.members) c.members.push_back({m.id, m.type == config::PeerType::kObserver});
  c.tick_ms = q.tick_ms;
  c.init_limit = q.init_limit_ticks;
  c.sync_limit = q.sync_limit_ticks;
  c.config_text = QuorumVerifierText(q);
  c.commit_log_count = static_cast<size_t>(std::max(q.commit_log_count, 0));
  c.leader_append_bytes = false;  // the leader logs its core's own txn (QuorumPeer::AppendLogged)
  return c;
}

std::string QuorumVerifierText(const config::QuorumConfig& q) {
  std::string out;
  for (const config::QuorumMember& m : q.members) {
    const config::QuorumAddress& a = m.addresses.front();
    out += fmt::format("server.{}={}:{}:{}:{}", m.id, a.host, a.peer_port, a.election_port,
                       m.type == config::PeerType::kObserver ? "observer" : "participant");
    if (m.client_port != 0) {
      out += fmt::format(";{}:{}", m.client_host.empty() ? "0.0.0.0" : m.client_host, m.client_port);
    }
    out += "\n";
  }
  out += fmt::format("version={:x}", q.config_version);
  return out;
}

}  // namespace aviary::server
