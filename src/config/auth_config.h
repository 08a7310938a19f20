// Internal to src/config: the client-authentication keys of zoo.cfg (SASL,
// enforce.auth, superUser; issue 8), read as ZooKeeper 3.8 reads their
// "zookeeper.<key>" system properties (ZooKeeperServer,
// AuthenticationHelper, SaslServerCallbackHandler).
// Thread use: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "config/zoo_config.h"

namespace aviary::config::detail {

inline constexpr std::string_view kSaslProviderClass = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider";

// Takes `key` (as written, "zookeeper." prefix allowed) when it is one of
// these keys: *handled = true, and false with *error for a bad value.
bool AuthKey(std::string_view key, std::string_view value, ServerConfig* cfg, bool* handled, std::string* error);

// AuthenticationHelper's checks once every key is read: enforce.auth.enabled
// needs enforce.auth.schemes, and each scheme must have a provider (digest,
// ip, and sasl with the SASL provider), else the start fails as ZooKeeper's.
bool FinishAuth(ServerConfig* cfg, std::string* error);

}  // namespace aviary::config::detail
