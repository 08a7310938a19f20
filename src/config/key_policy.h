// Internal to src/config: what Aviary does with a ZooKeeper zoo.cfg key that
// no value handler in zoo_config.cc takes.
//
// Owns: the lists of recognised-but-unused keys and of keys that must stop
// the start. The rule (issue 6, "fail closed"): a key that changes safety or
// security - quorum membership, TLS, client or quorum authentication,
// ACL enforcement, auditing - is never ignored with a
// warning. Unless its value is the safe default (e.g. `false`), it is
// refused, and the server does not start. Keys that only tune features
// that are absent (quorum timings, metrics, admin server details) are
// ignored with a warning, as before. Keys written with the "zookeeper."
// system-property prefix are classified like the bare key.
// Thread use: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "config/zoo_config.h"

namespace aviary::config::detail {

enum class KeyPolicy {
  kUnknown,   // not a ZooKeeper key Aviary knows: warn
  kIgnored,   // a known ZooKeeper key with no effect here: warn
  kAccepted,  // known, and its value is what Aviary does anyway: silent
  kRefused,   // cannot be honoured and must not be ignored: stop the start
};

// Classifies `key` = `value` (both trimmed). For kRefused, *why says what
// the key asks for that Aviary does not do (without the key itself).
KeyPolicy ClassifyUnhandledKey(std::string_view key, std::string_view value, std::string* why);

// The ensemble settings that zoo_config.cc parses and validates completely
// but that the server cannot run yet: an ensemble (two or more
// participants, standaloneEnabled=false, dynamicConfigFile) and dynamic
// reconfiguration (reconfigEnabled=true). (readonlymode.enabled is honoured
// by an ensemble member, server/core_read_only.cc; standalone, it does
// nothing, as in ZooKeeper.) Adds one "<key>: <why>" line each to
// cfg->refused (replacing those it added before, so it may run again after
// the dynamic file is read). Lifting a refusal = deleting its line here.
void AddEnsembleRefusals(ServerConfig* cfg);

}  // namespace aviary::config::detail
