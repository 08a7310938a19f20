// ZooKeeper settings given as JVM system properties. ZooKeeper reads many
// settings (authProvider.N, ssl.*, sessionRequireClientSASLAuth, superUser,
// digest.enabled, ...) through System.getProperty("zookeeper.<key>"), and
// its start scripts pass them as -Dzookeeper.<key>=<value> flags in
// SERVER_JVMFLAGS, JVMFLAGS or the conf directory's java.env. Aviary reads
// the same flags so that such a deployment moves by changing only the
// binary; a key set in zoo.cfg wins (ZooKeeper copies unknown zoo.cfg keys
// over the system properties).
//
// Owns: only the lexical scan of flag text (shell-ish: a value may be quoted
// with ' or "; an unquoted value ends at whitespace or a quote). Reading the
// environment and java.env is LoadZooConfig's job.
// Thread use: pure functions.
#pragma once

#include <string_view>

#include "config/properties.h"

namespace aviary::config {

// Every -Dzookeeper.<key>=<value> in `flags`, in order, keys with their
// "zookeeper." prefix. A flag without '=' has the value "" (as the JVM).
// At most kMaxProperties flags are returned.
PropertyList ZooKeeperPropertiesInFlags(std::string_view flags);

// Merges `flag_props` (from JVM flags; a later one wins over an earlier one
// with the same key) under `zoo_cfg` (which wins over any flag naming the
// same key, with or without the "zookeeper." prefix). The result lists the
// surviving flag properties first, then zoo.cfg's, so that applying it in
// order gives zoo.cfg the last word.
PropertyList MergeFlagProperties(const PropertyList& flag_props, const PropertyList& zoo_cfg);

}  // namespace aviary::config
