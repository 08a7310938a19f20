// The ensemble view of a parsed zoo.cfg: who the members are, which of them
// vote, who this server is, and the timeouts ZAB and leader election run
// with. Built from a ServerConfig (zoo_config.h) after myid is applied, with
// Apache ZooKeeper 3.8's rules (QuorumPeerConfig.setupMyId / setupClientPort
// / setupPeerType / checkValidity, QuorumPeer.start, QuorumMaj):
//  - standalone (ZooKeeper runs ZooKeeperServerMain): at most one
//    participant and standaloneEnabled=true; then only `standalone` and the
//    plain settings are meaningful;
//  - otherwise: myid is required and must name a server.N line ("My id N
//    not in the peer list"); the server's role comes from its own line (a
//    different peerType is a warning, the line wins, as ZooKeeper); a member
//    without a client address in its line takes this server's clientPort /
//    clientPortAddress when it is this server; initLimit and syncLimit must
//    be set; only majority quorums (no group/weight); with
//    extendedTypesEnabled the id must be at most 254 (TTL session ids).
// Majority: a set of voting members is a quorum when it holds more than half
// of them (quorum_size = voting / 2 + 1). Observers never count.
// Plain data, built once at start-up; share read-only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/zoo_config.h"

namespace aviary::config {

struct QuorumMember {
  int64_t id = 0;
  PeerType type = PeerType::kParticipant;
  std::vector<QuorumAddress> addresses;  // at least one; several with multiAddress.enabled
  std::string client_host;               // "" when no client address is known for it
  uint16_t client_port = 0;
  bool client_from_static = false;  // this server's own client address came from clientPort, not its line
};

struct QuorumConfig {
  bool standalone = true;
  int64_t my_id = 0;
  PeerType my_type = PeerType::kParticipant;
  std::vector<QuorumMember> members;  // every server.N, by id
  std::vector<int64_t> voting_ids;    // participants, ascending
  std::vector<int64_t> observer_ids;  // ascending
  size_t quorum_size = 1;             // voting_ids.size() / 2 + 1
  int64_t config_version = 0;

  int tick_ms = 0;
  int init_limit_ticks = 0;
  int sync_limit_ticks = 0;
  int64_t init_timeout_ms = 0;  // initLimit * tickTime: a learner's connect + sync
  int64_t sync_timeout_ms = 0;  // syncLimit * tickTime: a learner's lag before it is dropped

  int election_alg = 3;
  int election_port_bind_retry = 3;  // 0 = forever
  bool quorum_listen_on_all_ips = false;
  bool readonly_mode_enabled = false;
  bool sync_enabled = true;  // an observer logs (and snapshots) the txns it receives
  bool local_sessions_enabled = false;
  bool local_sessions_upgrading_enabled = false;
  bool reconfig_enabled = false;
  // aviary.digest.stopOnMismatch: a learner whose tree digest differs stops
  // (unset: when its leader is Aviary).
  std::optional<bool> digest_stop_on_mismatch;
  // Quorum TLS (sslQuorum, portUnification, ssl.quorum.*; peer/peer_tls.h).
  bool ssl_quorum = false;
  bool port_unification = false;
  tls::TlsOptions quorum_tls;
  bool digest_enabled = true;  // digest.enabled (zookeeper.digest.enabled)
  // snapshotSizeFactor / commitLogCount: the leader's DIFF-or-SNAP rule (zoo_config.h)
  double snapshot_size_factor = kDefaultSnapshotSizeFactor;
  int commit_log_count = kDefaultCommitLogCount;

  std::vector<std::string> warnings;  // e.g. peerType differs from the server's line

  const QuorumMember* Find(int64_t id) const;
  const QuorumMember& self() const;  // valid unless standalone
  // Is this set of acknowledging server ids a quorum (more than half of the
  // voting members; other ids are not counted)?
  bool IsQuorum(const std::vector<int64_t>& ids) const;
};

// cfg: parsed, with myid applied (LoadZooConfig, or ParseZooConfig +
// ApplyMyId). false with an error naming the key or the rule otherwise.
bool BuildQuorumConfig(const ServerConfig& cfg, QuorumConfig* out, std::string* error);

}  // namespace aviary::config
