// zkCli.sh's `-client-configuration <file>`: a Java properties file of
// ZooKeeper client settings (ZKClientConfig). zookeeper.client.secure=true
// connects over TLS with the zookeeper.ssl.* stores (key store, trust
// store, hostnameVerification; other zookeeper.ssl.* keys are reported as
// not used). A file that asks for a SASL login (zookeeper.sasl.clientconfig
// names a JAAS section) is refused with the key named, never silently
// connected without; settings that only matter with a JAAS login (other
// zookeeper.sasl.*) and clientCnxnSocket are accepted as zkCli.sh without
// them accepts them; any other key is reported as not used.
// Thread use: pure functions (the file is read once, before connecting).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "client/tls_client.h"

namespace aviary::cli {

// key/value pairs of a Java properties file, in order (comments, blank lines
// and line continuations as java.util.Properties reads them; no unicode
// escapes). False with *error when the file cannot be read.
bool ReadProperties(const std::string& path, std::vector<std::pair<std::string, std::string>>* out, std::string* error);

// Checks a client configuration and fills *tls from it. Returns false with
// *error (naming the key) when it asks for something aviary cannot do;
// appends one line per key aviary does not use to *warnings.
bool CheckClientConfiguration(const std::vector<std::pair<std::string, std::string>>& props, std::string* error,
                              std::vector<std::string>* warnings, client::ClientTlsOptions* tls);

}  // namespace aviary::cli
