// Startup of SASL on the client port (issue 8): from a zoo.cfg naming the
// SASLAuthenticationProvider, finds the JAAS file (aviary.sasl.jaasConfig,
// else as ZooKeeper's scripts pass it: SERVER_JVMFLAGS, JVMFLAGS, then
// java.env next to zoo.cfg), reads the login section, points Kerberos at its
// keytab and builds the sasl::Authenticator the core uses. Everything that
// cannot be honoured is an error that stops the start (fail closed),
// including security settings passed as -Dzookeeper.* JVM flags (in
// SERVER_JVMFLAGS, JVMFLAGS or java.env), which Aviary does not read.
// Thread use: the main thread, before the server starts (sets KRB5_KTNAME).
#pragma once

#include <memory>
#include <string>

#include "config/zoo_config.h"
#include "server/core_options.h"

namespace aviary::server {

// Fills the SASL and enforce.auth fields of *core from `cfg`. With no SASL
// provider configured, core->sasl stays null and true is returned.
// `config_path` locates java.env.
bool SetUpClientAuth(const config::ServerConfig& cfg, const std::string& config_path, CoreOptions* core,
                     std::string* error);

}  // namespace aviary::server
