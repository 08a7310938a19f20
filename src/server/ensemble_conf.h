// conf's quorum part for an ensemble member (QuorumZooKeeperServer.dumpConf):
// the limits, this server's ports and type, and the membership as
// QuorumMaj.toString prints it. Plain data built once at start-up.
#pragma once

#include "admin/server_snapshot.h"
#include "config/quorum_config.h"

namespace aviary::server {

admin::EnsembleConf MakeEnsembleConf(const config::QuorumConfig& q);

// QuorumServer.toString: "host:quorumPort:electionPort" per address (sorted
// by host, '|'-joined), ":participant" / ":observer", then ";host:port" for
// a client address given in the server.N line (not one taken from clientPort).
std::string QuorumServerSpecString(const config::QuorumMember& m);

}  // namespace aviary::server
