#include "config/auth_config.h"

#include <fmt/core.h>

#include <algorithm>

#include "config/config_values.h"

namespace aviary::config::detail {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string> SplitSchemes(std::string_view value) {
  std::vector<std::string> out;
  while (true) {
    size_t comma = value.find(',');
    out.emplace_back(Trim(value.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

bool AuthKey(std::string_view raw_key, std::string_view value, ServerConfig* cfg, bool* handled, std::string* error) {
  *handled = true;
  // QuorumPeerConfig reads these from zoo.cfg only (a -Dzookeeper. flag
  // of the same name does nothing in ZooKeeper: ignored, key_policy.cc).
  ServerConfig::QuorumSasl& q = cfg->quorum_sasl;
  if (raw_key == "quorum.auth.enableSasl") return BoolValue(raw_key, value, &q.enable, error);
  if (raw_key == "quorum.auth.learnerRequireSasl") return BoolValue(raw_key, value, &q.learner_require, error);
  if (raw_key == "quorum.auth.serverRequireSasl") return BoolValue(raw_key, value, &q.server_require, error);
  if (raw_key == "quorum.auth.learner.saslLoginContext" || raw_key == "quorum.auth.server.saslLoginContext") {
    if (value.empty()) return Invalid(raw_key, value, "expected a JAAS section name", error);
    (raw_key.find("learner") != std::string_view::npos ? q.learner_context : q.server_context) = std::string(value);
    return true;
  }
  if (raw_key == "quorum.auth.kerberos.servicePrincipal") {
    q.service_principal = std::string(value);
    return true;
  }
  std::string_view key = raw_key;
  if (key.starts_with("zookeeper.")) key.remove_prefix(10);
  ServerConfig::Sasl& s = cfg->sasl;
  if (key.starts_with("authProvider.") && value == kSaslProviderClass) {
    s.provider = true;
    return true;
  }
  if (key == "aviary.sasl.jaasConfig") {
    s.jaas_config = std::string(value);
    return true;
  }
  if (key == "sasl.serverconfig") {
    if (value.empty()) return Invalid(raw_key, value, "expected a JAAS section name", error);
    s.login_context = std::string(value);
    return true;
  }
  if (key == "superUser" || key.starts_with("superUser.")) {
    if (!value.empty()) s.super_users.emplace_back(value);
    return true;
  }
  if (key == "SASLAuthenticationProvider.superPassword") {
    s.super_password = std::string(value);
    return true;
  }
  if (key == "kerberos.removeHostFromPrincipal") return BoolValue(raw_key, value, &s.remove_host, error);
  if (key == "kerberos.removeRealmFromPrincipal") return BoolValue(raw_key, value, &s.remove_realm, error);
  if (key == "allowSaslFailedClients") return BoolValue(raw_key, value, &s.allow_failed_clients, error);
  if (key == "enforce.auth.enabled") return BoolValue(raw_key, value, &cfg->enforce_auth_enabled, error);
  if (key == "sessionRequireClientSASLAuth") return BoolValue(raw_key, value, &cfg->session_require_sasl, error);
  if (key == "enforce.auth.schemes") {
    cfg->enforce_auth_schemes = SplitSchemes(value);
    return true;
  }
  *handled = false;
  return true;
}

bool FinishAuth(ServerConfig* cfg, std::string* error) {
  // QuorumPeerConfig.parseProperties' checks.
  const ServerConfig::QuorumSasl& q = cfg->quorum_sasl;
  if (!q.enable && (q.server_require || q.learner_require)) {
    *error = fmt::format("quorum.auth.enableSasl is disabled, so cannot enable {}",
                         q.server_require ? "quorum.auth.serverRequireSasl" : "quorum.auth.learnerRequireSasl");
    return false;
  }
  if (!q.learner_require && q.server_require) {
    *error = "quorum.auth.learnerRequireSasl is disabled, so cannot enable quorum.auth.serverRequireSasl";
    return false;
  }
  if (cfg->session_require_sasl) {
    cfg->enforce_auth_enabled = true;
    cfg->enforce_auth_schemes = {"sasl"};
  }
  if (!cfg->enforce_auth_enabled) return true;
  if (cfg->enforce_auth_schemes.empty() ||
      std::all_of(cfg->enforce_auth_schemes.begin(), cfg->enforce_auth_schemes.end(),
                  [](const std::string& s) { return s.empty(); })) {
    *error = "enforce.auth.enabled is true: enforce.auth.schemes must be configured";
    return false;
  }
  for (const std::string& scheme : cfg->enforce_auth_schemes) {
    bool available = scheme == "digest" || scheme == "ip" || (scheme == "sasl" && cfg->sasl.provider) ||
                     (scheme == "x509" && cfg->x509_provider);
    if (!available) {
      *error = fmt::format("enforce.auth.schemes: authentication scheme '{}' is not available{}", scheme,
                           scheme == "sasl" ? " (no authProvider.N names the SASLAuthenticationProvider)" : "");
      return false;
    }
  }
  return true;
}

}  // namespace aviary::config::detail
