// Startup of SASL on the client port (issue 8): from a zoo.cfg naming the
// SASLAuthenticationProvider, finds the JAAS file (aviary.sasl.jaasConfig,
// else as ZooKeeper's scripts pass it: SERVER_JVMFLAGS, JVMFLAGS, then
// java.env next to zoo.cfg), reads the login section, points Kerberos at its
// keytab and builds the sasl::Authenticator the core uses. Everything that
// cannot be honoured is an error that stops the start (fail closed).
// Settings passed as -Dzookeeper.* JVM flags reach `cfg` through
// config::LoadZooConfig (config/jvm_flags.h).
// Thread use: the main thread, before the server starts (sets KRB5_KTNAME).
#pragma once

#include <memory>
#include <string>

#include "config/zoo_config.h"
#include "peer/quorum_auth.h"
#include "server/core_options.h"

namespace aviary::server {

// Fills the SASL and enforce.auth fields of *core from `cfg`. With no SASL
// provider configured, core->sasl stays null and true is returned.
// `config_path` locates java.env.
bool SetUpClientAuth(const config::ServerConfig& cfg, const std::string& config_path, CoreOptions* core,
                     std::string* error);

// Quorum SASL (quorum.auth.enableSasl, an ensemble member only): reads the
// QuorumServer and QuorumLearner sections (quorum.auth.*.saslLoginContext)
// of the JAAS file found as for the client port. DIGEST-MD5 only: a
// Kerberos login in either section stops the start with an error naming
// the key. Nothing to do (true) without enableSasl.
bool SetUpQuorumAuth(const config::ServerConfig& cfg, const std::string& config_path, peer::QuorumSaslSettings* out,
                     std::string* error);

}  // namespace aviary::server
