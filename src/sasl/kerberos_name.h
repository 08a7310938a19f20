// ZooKeeper's KerberosName (server/auth/KerberosName.java) for the names a
// SASL exchange authenticates: "service[/host]@REALM", or a plain user name
// (DIGEST-MD5). Only the DEFAULT auth_to_local rule exists (a realm equal to
// the default realm maps to the first component; any other realm matches no
// rule and the name is kept whole), as with ZooKeeper's default
// zookeeper.security.auth_to_local.
// Thread use: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aviary::sasl {

struct KerberosName {
  std::string service;
  std::optional<std::string> host;
  std::optional<std::string> realm;
};

// Nullopt when `name` contains '@' but is not service[/host]@realm (each
// part without '/' or '@'): SASLAuthenticationProvider.isValid's test.
std::optional<KerberosName> ParseKerberosName(std::string_view name);

// The ("sasl", id) ZooKeeper's SaslServerCallbackHandler makes of an
// authenticated name: the short name, then "/host" unless remove_host, then
// "@realm" unless remove_realm. When no rule applies (a realm other than
// `default_realm`) or the name does not parse, the name unchanged.
std::string SaslAuthorizedId(std::string_view authentication_id, std::string_view default_realm, bool remove_host,
                             bool remove_realm);

}  // namespace aviary::sasl
