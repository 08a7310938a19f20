// Internal to src/config: the zoo.cfg keys of TLS on the client port and
// of x509 authentication, read as ZooKeeper 3.8 reads them
// (QuorumPeerConfig, ClientX509Util "zookeeper.ssl.*" system properties,
// NettyServerCnxnFactory, X509AuthenticationProvider). Every key is also
// accepted with the "zookeeper." prefix.
// Thread use: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "config/zoo_config.h"

namespace aviary::config::detail {

// Applies `raw_key` = `value` when it is one of these keys (*handled);
// false on an invalid value.
bool ApplyTlsKey(std::string_view raw_key, std::string_view value, ServerConfig* cfg, bool* handled,
                 std::string* error);

// Cross-key rules once every key is read (secureClientPortAddress without
// secureClientPort, ssl.authProvider naming no provider, ...).
bool FinishTls(ServerConfig* cfg, std::string* error);

}  // namespace aviary::config::detail
