// TLS settings of the client port as zoo.cfg gives them (ZooKeeper 3.8's
// ClientX509Util "ssl.*" keys, also spelled "zookeeper.ssl.*"). Plain data,
// no OpenSSL: src/config fills it, tls/context.h turns it into an SSL_CTX.
// Thread use: plain data; filled once at start, then read-only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aviary::tls {

// ssl.clientAuth: ZooKeeper's default (unset) is kNeed.
enum class ClientAuth { kNone, kWant, kNeed };

// One key store or trust store: ssl.keyStore.* / ssl.trustStore.*.
struct StoreOptions {
  std::string location;       // empty: not configured
  std::string password;       // ssl.*.password (or the contents of ssl.*.passwordPath)
  std::string type;           // "PEM", "PKCS12", "JKS", "BCFKS", or empty: from the file extension
  std::string password_path;  // ssl.*.passwordPath: the password is this file's contents (wins over password)
  bool empty() const { return location.empty(); }
};

struct TlsOptions {
  StoreOptions key_store;
  StoreOptions trust_store;
  ClientAuth client_auth = ClientAuth::kNeed;
  std::string protocol = "TLSv1.2";            // ssl.protocol (ZooKeeper 3.8's DEFAULT_PROTOCOL)
  std::vector<std::string> enabled_protocols;  // ssl.enabledProtocols; empty: {protocol}
  std::vector<std::string> cipher_suites;      // ssl.ciphersuites, Java/IANA names; empty: ZooKeeper's defaults
  // ssl.hostnameVerification (default true). ZooKeeper's server never checks
  // a client certificate's host name (ClientX509Util.shouldVerifyClientHostname
  // is false); the key only matters to clients, so the server only records it.
  bool hostname_verification = true;
  int64_t handshake_timeout_ms = 10000;  // aviary.ssl.handshakeTimeoutMs (Netty's SslHandler default)
  bool cert_reload = false;              // client.certReload (zookeeper.client.certReload)
  // How logs and errors name this set: "client.certReload" / "TLS" for the
  // client port; "sslQuorumReloadCertFiles" / "quorum TLS" for ssl.quorum.*.
  std::string reload_key = "client.certReload";
  std::string log_name = "TLS";
};

}  // namespace aviary::tls
