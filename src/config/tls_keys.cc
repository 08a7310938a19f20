#include "config/tls_keys.h"

#include <fmt/core.h>

#include <cctype>

#include "config/config_values.h"

namespace aviary::config::detail {
namespace {

constexpr std::string_view kX509Class = "org.apache.zookeeper.server.auth.X509AuthenticationProvider";
constexpr std::string_view kNettyFactory = "org.apache.zookeeper.server.NettyServerCnxnFactory";
constexpr std::string_view kNioFactory = "org.apache.zookeeper.server.NIOServerCnxnFactory";

std::vector<std::string> CommaList(std::string_view v) {
  std::vector<std::string> out;
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view item = Trim(v.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

// ssl.keyStore.* / ssl.trustStore.*: `field` is what follows the store name.
bool StoreKey(std::string_view field, std::string_view value, tls::StoreOptions* s) {
  if (field == "location")
    s->location = std::string(value);
  else if (field == "password")
    s->password = std::string(value);
  else if (field == "passwordPath")
    s->password_path = std::string(value);
  else if (field == "type")
    s->type = std::string(value);
  else
    return false;
  return true;
}

// The keys ssl.* and ssl.quorum.* share (X509Util's property names);
// `key` is what follows the prefix. *handled false: not one of them.
bool CommonSslKey(std::string_view raw_key, std::string_view key, std::string_view value, tls::TlsOptions& t,
                  std::vector<std::string>* refused, bool* handled, std::string* error) {
  *handled = true;
  if (key.starts_with("keyStore.") && StoreKey(key.substr(9), value, &t.key_store)) return true;
  if (key.starts_with("trustStore.") && StoreKey(key.substr(11), value, &t.trust_store)) return true;
  if (key == "clientAuth") {
    std::string v = Lower(value);  // X509Util.ClientAuth.fromPropertyValue; empty = NEED
    if (v.empty() || v == "need")
      t.client_auth = tls::ClientAuth::kNeed;
    else if (v == "want")
      t.client_auth = tls::ClientAuth::kWant;
    else if (v == "none")
      t.client_auth = tls::ClientAuth::kNone;
    else
      return Invalid(raw_key, value, "expected none, want or need", error);
    return true;
  }
  if (key == "protocol") {
    if (value.empty()) return Invalid(raw_key, value, "expected a protocol such as TLSv1.2 or TLSv1.3", error);
    t.protocol = std::string(value);
    return true;
  }
  if (key == "enabledProtocols") {
    t.enabled_protocols = CommaList(value);
    return true;
  }
  if (key == "ciphersuites") {
    t.cipher_suites = CommaList(value);
    return true;
  }
  if (key == "hostnameVerification") return BoolValue(raw_key, value, &t.hostname_verification, error);
  // Settings with no effect on Aviary's sockets (Aviary verifies the peer's
  // IP address, never a reverse-resolved name; a unified port decides on
  // the first byte): accepted as ZooKeeper's server does.
  if (key == "allowReverseDnsLookup" || key == "handshakeDetectionTimeoutMillis") return true;
  if (key == "crl" || key == "ocsp") {
    bool on = false;
    if (!BoolValue(raw_key, value, &on, error)) return false;
    if (on)
      refused->push_back(fmt::format("{}: certificate revocation checking, which Aviary does not implement", raw_key));
    return true;
  }
  *handled = false;
  return true;
}

bool SslKey(std::string_view raw_key, std::string_view key, std::string_view value, ServerConfig* cfg, bool* handled,
            std::string* error) {
  if (!CommonSslKey(raw_key, key, value, cfg->tls, &cfg->refused, handled, error)) return false;
  if (*handled) return true;
  *handled = true;
  if (key == "authProvider") {
    if (value.empty()) return Invalid(raw_key, value, "expected an auth provider scheme such as x509", error);
    cfg->ssl_auth_provider = std::string(value);
    return true;
  }
  *handled = false;  // ssl.context.supplier.class, unknown: key_policy refuses them
  return true;
}

// sslQuorum, portUnification, sslQuorumReloadCertFiles and ssl.quorum.*
// (QuorumPeerConfig, QuorumX509Util). `key` has no "zookeeper." prefix.
bool QuorumTlsKey(std::string_view raw_key, std::string_view key, std::string_view value, ServerConfig* cfg,
                  bool* handled, std::string* error) {
  *handled = true;
  if (key == "sslQuorum") return BoolValue(raw_key, value, &cfg->ssl_quorum, error);
  if (key == "portUnification") return BoolValue(raw_key, value, &cfg->quorum_port_unification, error);
  if (key == "sslQuorumReloadCertFiles") return BoolValue(raw_key, value, &cfg->quorum_tls.cert_reload, error);
  if (key == "aviary.ssl.quorum.handshakeTimeoutMs") {
    return IntValue(raw_key, value, 100, 600000, "expected milliseconds, 100-600000",
                    &cfg->quorum_tls.handshake_timeout_ms, error);
  }
  if (!key.starts_with("ssl.quorum.")) {
    *handled = false;
    return true;
  }
  key.remove_prefix(11);
  if (!CommonSslKey(raw_key, key, value, cfg->quorum_tls, &cfg->refused, handled, error)) return false;
  if (*handled && key == "clientAuth" && cfg->quorum_tls.client_auth != tls::ClientAuth::kNeed) {
    // Every member presents its certificate to every other: mutual auth only.
    cfg->refused.push_back(fmt::format(
        "{}: quorum TLS without client certificates, which Aviary does not implement (only need)", raw_key));
  }
  return true;  // unhandled ssl.quorum.* keys: key_policy refuses them
}

}  // namespace

bool ApplyTlsKey(std::string_view raw_key, std::string_view value, ServerConfig* cfg, bool* handled,
                 std::string* error) {
  std::string_view key = raw_key;
  if (key.starts_with("zookeeper.")) key.remove_prefix(10);
  *handled = true;
  if (key == "secureClientPort") {
    cfg->secure_client_port_set = true;
    return PortValue(raw_key, value, true, &cfg->secure_client_port, error);
  }
  if (key == "secureClientPortAddress") {
    if (value.empty()) return Invalid(raw_key, value, "expected a host name or IP address", error);
    cfg->secure_client_port_address = std::string(value);
    return true;
  }
  if (key == "client.portUnification") return BoolValue(raw_key, value, &cfg->port_unification, error);
  if (key == "client.certReload") return BoolValue(raw_key, value, &cfg->tls.cert_reload, error);
  if (key == "serverCnxnFactory") {
    cfg->server_cnxn_factory = std::string(value);
    if (value != kNettyFactory && value != kNioFactory) {
      cfg->warnings.push_back(
          fmt::format("{}={}: not a ZooKeeper factory; Aviary uses its own network layer", raw_key, value));
    }
    return true;
  }
  if (key == "X509AuthenticationProvider.superUser") {
    cfg->x509_super_user = std::string(value);
    return true;
  }
  if (key == "aviary.ssl.handshakeTimeoutMs") {
    return IntValue(raw_key, value, 100, 600000, "expected milliseconds, 100-600000", &cfg->tls.handshake_timeout_ms,
                    error);
  }
  if (key.starts_with("authProvider.") && value == kX509Class) {
    cfg->x509_provider = true;
    cfg->x509_provider_names.emplace_back(key.substr(13));
    return true;
  }
  if (key.starts_with("ssl.") && !key.starts_with("ssl.quorum.")) {
    return SslKey(raw_key, key.substr(4), value, cfg, handled, error);
  }
  return QuorumTlsKey(raw_key, key, value, cfg, handled, error);
}

bool FinishTls(ServerConfig* cfg, std::string* error) {
  if (!cfg->secure_client_port_set && !cfg->secure_client_port_address.empty()) {
    *error = "secureClientPortAddress is set but secureClientPort is not set";
    return false;
  }
  if (!cfg->TlsInUse()) return true;
  // QuorumPeerConfig.configureSSLAuth: TLS registers the provider that
  // ssl.authProvider names; only "x509" is registered implicitly.
  const std::string& name = cfg->ssl_auth_provider;
  bool named = name == "x509";
  for (const std::string& n : cfg->x509_provider_names) named = named || n == name;
  if (!named) {
    *error = fmt::format(
        "No auth provider configured for the SSL authentication scheme '{}' (set authProvider.{}={} or "
        "ssl.authProvider=x509)",
        name, name, kX509Class);
    return false;
  }
  cfg->x509_provider = true;
  if (cfg->server_cnxn_factory != kNettyFactory) {
    cfg->warnings.push_back(
        fmt::format("serverCnxnFactory={}: ZooKeeper serves TLS only with {}; Aviary serves it anyway",
                    cfg->server_cnxn_factory.empty() ? "(unset, NIO)" : cfg->server_cnxn_factory, kNettyFactory));
  }
  return true;
}

}  // namespace aviary::config::detail
