#include "config/key_policy.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>

namespace aviary::config::detail {
namespace {

// ZooKeeper keys that tune features Aviary does not have and that change
// neither safety nor security when ignored (most only matter in an ensemble,
// which is refused on its own).
constexpr std::array<std::string_view, 6> kIgnoredKeys = {
    "observerMasterPort", "connectToLearnerMasterLimit", "quorum.cnxn.threads.size", "oraclePath",
    "jaasLoginRenew",     "admin.httpVersion",
};

// Also ignored: quorum.auth.* keys auth_config.cc does not read (ZooKeeper
// reads none other; a -Dzookeeper.quorum.auth.* flag does nothing there).
// (metricsProvider.* is read by metrics_config.cc.)
constexpr std::array<std::string_view, 5> kIgnoredPrefixes = {"multiAddress.", "group.", "weight.", "kerberos.",
                                                              "quorum.auth."};

struct Rule {
  std::string_view key;
  std::string_view safe_value;  // accepted (case-insensitive); empty: every value is refused
  std::string_view why;
};

constexpr std::string_view kNoEnsemble =
    "Aviary does not run an ensemble of one participant or a dynamic configuration yet";

// TLS on the client port and between ensemble members (sslQuorum,
// portUnification, ssl.quorum.*) is read by tls_keys.cc.
// (admin.forceHttps, admin.portUnification and admin.needClientAuth are
// read by zoo_config.cc.)
constexpr std::array<Rule, 2> kRules = {{
    {"skipACL", "no", "turns ACL checks off; Aviary always checks ACLs"},
    {"security.auth_to_local", "DEFAULT",
     "Kerberos name mapping rules other than DEFAULT, which Aviary does not implement"},
}};

// Keys refused whatever their value, by prefix.
// (The ssl.* keys Aviary reads were taken by tls_keys.cc before this.)
constexpr std::array<Rule, 3> kRefusedPrefixes = {{
    {"ssl.quorum.", "", "a quorum TLS setting Aviary does not implement"},
    {"ssl.", "", "a TLS setting Aviary does not implement"},
    {"X509AuthenticationProvider.", "", "an X509AuthenticationProvider setting Aviary does not implement"},
}};

// Providers Aviary has built in: naming them is what happens anyway.
constexpr std::array<std::string_view, 2> kBuiltInProviders = {
    "org.apache.zookeeper.server.auth.DigestAuthenticationProvider",
    "org.apache.zookeeper.server.auth.IPAuthenticationProvider",
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

template <size_t N>
bool Contains(const std::array<std::string_view, N>& a, std::string_view s) {
  for (std::string_view x : a) {
    if (x == s) return true;
  }
  return false;
}

KeyPolicy Refuse(std::string_view why, std::string* out) {
  *out = std::string(why);
  return KeyPolicy::kRefused;
}

}  // namespace

KeyPolicy ClassifyUnhandledKey(std::string_view key, std::string_view value, std::string* why) {
  constexpr std::string_view kSysProp = "zookeeper.";
  if (key.starts_with(kSysProp)) key.remove_prefix(kSysProp.size());
  for (const Rule& r : kRules) {
    if (key != r.key) continue;
    if (!r.safe_value.empty() && EqualsIgnoreCase(value, r.safe_value)) return KeyPolicy::kAccepted;
    return Refuse(r.why, why);
  }
  for (const Rule& r : kRefusedPrefixes) {
    if (key.starts_with(r.key)) return Refuse(r.why, why);
  }
  if (key.starts_with("authProvider.")) {
    if (Contains(kBuiltInProviders, value)) return KeyPolicy::kAccepted;
    return Refuse("an authentication provider Aviary does not have (built in: digest, ip, sasl, x509)", why);
  }
  if (key == "DigestAuthenticationProvider.digestAlg") {
    if (EqualsIgnoreCase(value, "SHA1") || EqualsIgnoreCase(value, "SHA-1")) return KeyPolicy::kAccepted;
    return Refuse("a digest algorithm other than SHA1, which Aviary's digest scheme uses", why);
  }
  if (Contains(kIgnoredKeys, key)) return KeyPolicy::kIgnored;
  for (std::string_view prefix : kIgnoredPrefixes) {
    if (key.starts_with(prefix)) return KeyPolicy::kIgnored;
  }
  return KeyPolicy::kUnknown;
}

void AddEnsembleRefusals(ServerConfig* cfg) {
  constexpr std::array<std::string_view, 4> kOwn = {
      "server.N: ", "standaloneEnabled=false: ", "dynamicConfigFile: ", "reconfigEnabled: "};
  std::erase_if(cfg->refused, [&](const std::string& r) {
    return std::any_of(kOwn.begin(), kOwn.end(), [&](std::string_view p) { return r.starts_with(p); });
  });
  size_t participants = 0;
  for (const QuorumServerSpec& s : cfg->servers) participants += s.type == PeerType::kParticipant;
  // An ensemble (two participants or more) runs as a replicated member
  // (server/quorum_peer.h); one participant alone with standaloneEnabled=false
  // is an ensemble of one, which is not run yet.
  if (!cfg->standalone_enabled && participants < 2) {
    cfg->refused.push_back(
        fmt::format("standaloneEnabled=false: this is an ensemble member's configuration; {}", kNoEnsemble));
  }
  if (!cfg->dynamic_config_file.empty()) cfg->refused.push_back(fmt::format("dynamicConfigFile: {}", kNoEnsemble));
  if (cfg->reconfig_enabled) {
    cfg->refused.push_back("reconfigEnabled: dynamic reconfiguration, which Aviary does not implement");
  }
}

}  // namespace aviary::config::detail
