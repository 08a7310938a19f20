#include "config/zoo_config.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

#include "config/auth_config.h"
#include "config/config_values.h"
#include "config/jvm_flags.h"
#include "config/key_policy.h"
#include "config/logging_keys.h"
#include "config/properties.h"
#include "config/tls_keys.h"

namespace aviary::config {
namespace {

using detail::Invalid;

constexpr int kUnset = -1;

// Keys ZooKeeper reads as "zookeeper.<key>" system properties; both spellings are accepted.
constexpr std::array<std::string_view, 27> kSysPropKeys = {
    "electionPortBindRetry",
    "digest.enabled",
    "snapshotSizeFactor",
    "commitLogCount",
    "observer.syncEnabled",
    "multiAddress.enabled",
    "extendedTypesEnabled",
    "DigestAuthenticationProvider.superDigest",
    "4lw.commands.whitelist",
    "globalOutstandingLimit",
    "forceSync",
    "snapCount",
    "preAllocSize",
    "admin.enableServer",
    "admin.serverPort",
    "admin.serverAddress",
    "admin.commandURL",
    "admin.idleTimeout",
    "admin.snapshot.enabled",
    "admin.restore.enabled",
    "admin.rateLimiterIntervalInMS",
    "admin.forceHttps",
    "admin.portUnification",
    "admin.needClientAuth",
    "jute.maxbuffer",
    "maxCnxns",
    "enforceQuota",
};

template <size_t N>
bool Contains(const std::array<std::string_view, N>& a, std::string_view s) {
  for (std::string_view x : a) {
    if (x == s) return true;
  }
  return false;
}

std::string_view NormalizeKey(std::string_view key) {
  constexpr std::string_view kPrefix = "zookeeper.";
  if (key.starts_with(kPrefix) && Contains(kSysPropKeys, key.substr(kPrefix.size()))) {
    return key.substr(kPrefix.size());
  }
  return key;
}

void WarnIfRelative(std::string_view key, const std::string& path, ServerConfig* cfg) {
  if (path.empty() || path[0] == '/' || path.starts_with("./")) return;
  cfg->warnings.push_back(
      fmt::format("{} {} is relative (to the current directory). Prepend ./ to indicate that "
                  "you're sure!",
                  key, path));
}

struct Pending {
  int min_session = kUnset;
  int max_session = kUnset;
  // server.N lines, parsed at the end (multiAddress.enabled may follow them).
  std::vector<std::pair<std::string, std::string>> server_lines;
  std::string first_member_key;  // the first server.* / group* / weight* key
  int observer_sync = kUnset;    // observer.syncEnabled: wins over syncEnabled
  bool hierarchical = false;     // group* / weight* keys
};

bool SessionTimeout(std::string_view key, std::string_view value, int* out, std::string* error) {
  int64_t v = 0;
  if (!detail::IntValue(key, value, -1, std::numeric_limits<int32_t>::max(), "expected a positive integer or -1", &v,
                        error) ||
      v == 0) {
    return Invalid(key, value, "expected a positive integer or -1", error);
  }
  *out = static_cast<int>(v);
  return true;
}

bool ServerLine(std::string_view key, std::string_view value, std::vector<QuorumServerSpec>* servers,
                bool multi_address_enabled, std::string* error) {
  int64_t id = 0;
  if (!detail::ParseInt64(key.substr(7), 0, std::numeric_limits<int64_t>::max(), &id)) {
    *error = fmt::format("invalid key {}: server id must be a non-negative integer", key);
    return false;
  }
  for (const QuorumServerSpec& s : *servers) {
    if (s.id == id) {
      *error = fmt::format("invalid key {}: server id {} is listed twice", key, id);
      return false;
    }
  }
  if (servers->size() >= kMaxQuorumServers) {
    *error = fmt::format("too many server.N lines (limit {})", kMaxQuorumServers);
    return false;
  }
  QuorumServerSpec spec;
  if (!ParseQuorumServer(id, value, &spec, error, multi_address_enabled)) return false;
  servers->push_back(std::move(spec));
  return true;
}

// How a leader syncs its learners (ZKDatabase's system properties, read as
// ZooKeeper reads them: a value it cannot use is the default, with a
// warning) and whether txns carry ZooKeeper's tree digest
// (zookeeper.digest.enabled).
bool SyncTuningKey(std::string_view raw_key, std::string_view key, std::string_view value, ServerConfig* cfg,
                   bool* handled, std::string* error) {
  *handled = true;
  if (key == "digest.enabled") return detail::BoolValue(raw_key, value, &cfg->digest_enabled, error);
  if (key == "snapshotSizeFactor") {
    std::string text(value);
    char* end = nullptr;
    errno = 0;
    const double f = text.empty() ? 0 : std::strtod(text.c_str(), &end);
    if (text.empty() || errno != 0 || *end != '\0' || !std::isfinite(f) || f > 1) {
      cfg->warnings.push_back(
          fmt::format("{} '{}' is invalid (a number <= 1; negative: no DIFF from the log); using {}", raw_key, value,
                      kDefaultSnapshotSizeFactor));
      cfg->snapshot_size_factor = kDefaultSnapshotSizeFactor;
    } else {
      cfg->snapshot_size_factor = f;
    }
    return true;
  }
  if (key == "commitLogCount") {
    int64_t n = 0;
    if (!detail::ParseInt64(value, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), &n) ||
        n < kDefaultCommitLogCount) {
      cfg->warnings.push_back(fmt::format("{} '{}' is less than the recommended {} (or not an integer); using {}",
                                          raw_key, value, kDefaultCommitLogCount, kDefaultCommitLogCount));
      n = kDefaultCommitLogCount;
    }
    cfg->commit_log_count = static_cast<int>(n);
    return true;
  }
  *handled = false;
  return true;
}

// Keys of an ensemble member (QuorumPeerConfig.parseProperties); false when
// not one of them (*handled = false).
bool EnsembleKey(std::string_view raw_key, std::string_view key, std::string_view value, ServerConfig* cfg, Pending* p,
                 bool* handled, std::string* error) {
  *handled = true;
  int64_t v64 = 0;
  if (key == "initLimit") return detail::NonNegativeInt(raw_key, value, &cfg->init_limit, error);
  if (key == "syncLimit") return detail::NonNegativeInt(raw_key, value, &cfg->sync_limit, error);
  if (key == "electionAlg") {
    if (!detail::ParseInt64(value, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), &v64) ||
        v64 != 3) {
      return Invalid(raw_key, value, "only 3 (fast leader election) is supported", error);
    }
    cfg->election_alg = 3;
    return true;
  }
  if (key == "electionPortBindRetry") {
    // ZooKeeper: Integer.getInteger, a negative or unparsable value is the default 3.
    if (!detail::ParseInt64(value, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), &v64) ||
        v64 < 0) {
      cfg->warnings.push_back(fmt::format("{} '{}' must be an integer >= 0; using 3", raw_key, value));
      v64 = 3;
    }
    cfg->election_port_bind_retry = static_cast<int>(v64);
    return true;
  }
  if (key == "quorumListenOnAllIPs") return detail::BoolValue(raw_key, value, &cfg->quorum_listen_on_all_ips, error);
  if (key == "syncEnabled") return detail::BoolValue(raw_key, value, &cfg->sync_enabled, error);
  if (key == "observer.syncEnabled") {
    bool b = false;
    if (!detail::BoolValue(raw_key, value, &b, error)) return false;
    p->observer_sync = b ? 1 : 0;
    return true;
  }
  if (key == "localSessionsEnabled") return detail::BoolValue(raw_key, value, &cfg->local_sessions_enabled, error);
  if (key == "localSessionsUpgradingEnabled") {
    return detail::BoolValue(raw_key, value, &cfg->local_sessions_upgrading_enabled, error);
  }
  if (key == "reconfigEnabled") return detail::BoolValue(raw_key, value, &cfg->reconfig_enabled, error);
  if (key == "standaloneEnabled") return detail::BoolValue(raw_key, value, &cfg->standalone_enabled, error);
  if (key == "readonlymode.enabled") return detail::BoolValue(raw_key, value, &cfg->readonly_mode_enabled, error);
  if (key == "multiAddress.enabled") return detail::BoolValue(raw_key, value, &cfg->multi_address_enabled, error);
  if (key == "dynamicConfigFile") {
    if (value.empty()) return Invalid(raw_key, value, "expected a file path", error);
    cfg->dynamic_config_file = std::string(value);
    return true;
  }
  if (key == "version") {
    if (!detail::ParseHexInt64(value, &cfg->config_version)) {
      return Invalid(raw_key, value, "expected a hexadecimal configuration version", error);
    }
    return true;
  }
  if (key.starts_with("server.")) {
    if (p->first_member_key.empty()) p->first_member_key = std::string(key);
    p->server_lines.emplace_back(std::string(key), std::string(value));
    return true;
  }
  if (key.starts_with("group") || key.starts_with("weight")) {
    p->hierarchical = true;
    if (p->first_member_key.empty()) p->first_member_key = std::string(key);
  }
  *handled = false;
  return true;
}

// Applies one trimmed key/value pair. Returns false on an invalid value.
bool ApplyKey(std::string_view raw_key, std::string_view value, ServerConfig* cfg, Pending* p, std::string* error) {
  std::string_view key = NormalizeKey(raw_key);
  int64_t v64 = 0;
  if (key == "tickTime") return detail::PositiveInt(raw_key, value, &cfg->tick_time_ms, error);
  if (key == "clientPort") {
    cfg->client_port_set = true;
    return detail::PortValue(raw_key, value, true, &cfg->client_port, error);
  }
  if (key == "clientPortAddress") {
    if (value.empty()) return Invalid(raw_key, value, "expected a host name or IP address", error);
    cfg->client_port_address = std::string(value);
    return true;
  }
  if (key == "dataDir" || key == "dataLogDir") {
    if (value.empty()) return Invalid(raw_key, value, "expected a directory path", error);
    (key == "dataDir" ? cfg->data_dir : cfg->data_log_dir) = std::string(value);
    WarnIfRelative(key, std::string(value), cfg);
    return true;
  }
  if (key == "maxClientCnxns") return detail::NonNegativeInt(raw_key, value, &cfg->max_client_cnxns, error);
  if (key == "minSessionTimeout") return SessionTimeout(raw_key, value, &p->min_session, error);
  if (key == "maxSessionTimeout") return SessionTimeout(raw_key, value, &p->max_session, error);
  if (key == "jute.maxbuffer") {
    // ZooKeeper reads it with Integer.getInteger, which also takes 0x-prefixed hex.
    constexpr std::string_view kExpect = "expected a positive integer, decimal or 0x-prefixed hex";
    if (value.starts_with("0x") || value.starts_with("0X")) {
      std::string_view hex = value.substr(2);
      if (hex.empty() || hex.size() > 8) return Invalid(raw_key, value, kExpect, error);
      v64 = 0;
      for (char c : hex) {
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0) return Invalid(raw_key, value, kExpect, error);
        v64 = v64 * 16 + d;
      }
      if (v64 < 1 || v64 > std::numeric_limits<int32_t>::max()) return Invalid(raw_key, value, kExpect, error);
    } else if (!detail::IntValue(raw_key, value, 1, std::numeric_limits<int32_t>::max(), kExpect, &v64, error)) {
      return false;
    }
    cfg->jute_max_buffer = v64;
    return true;
  }
  if (key == "extendedTypesEnabled") return detail::BoolValue(raw_key, value, &cfg->extended_types_enabled, error);
  if (key == "enforceQuota") {
    // Boolean.parseBoolean: anything but "true" (any case) is false.
    std::string lower(value);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    cfg->enforce_quota = lower == "true";
    if (!cfg->enforce_quota && lower != "false") {
      cfg->warnings.push_back(fmt::format("{} '{}' is not true or false; quotas are not enforced", raw_key, value));
    }
    return true;
  }
  if (key == "4lw.commands.whitelist") {
    std::vector<std::string> unknown;
    cfg->four_letter_whitelist = ParseFourLetterWhitelist(value, &unknown);
    for (const std::string& w : unknown) {
      cfg->warnings.push_back(fmt::format("{}: '{}' is not a known four-letter word", raw_key, w));
    }
    return true;
  }
  if (key == "globalOutstandingLimit") {
    return detail::PositiveInt(raw_key, value, &cfg->global_outstanding_limit, error);
  }
  if (key == "DigestAuthenticationProvider.superDigest") {
    size_t colon = value.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == value.size()) {
      return Invalid(raw_key, value, "expected user:base64digest", error);
    }
    cfg->super_digest = std::string(value);
    return true;
  }
  if (key == "forceSync") return detail::YesNoValue(raw_key, value, &cfg->force_sync, error);
  if (key == "snapCount") {
    if (!detail::PositiveInt(raw_key, value, &cfg->snap_count, error)) return false;
    if (cfg->snap_count < 2) {
      cfg->warnings.push_back(fmt::format("{} should be 2 or more; using 2", raw_key));
      cfg->snap_count = 2;
    }
    return true;
  }
  if (key == "autopurge.snapRetainCount") {
    if (!detail::NonNegativeInt(raw_key, value, &cfg->snap_retain_count, error)) return false;
    if (cfg->snap_retain_count < 3) {
      cfg->warnings.push_back(fmt::format("Invalid {}: {}. Defaulting to 3", raw_key, cfg->snap_retain_count));
      cfg->snap_retain_count = 3;
    }
    return true;
  }
  if (key == "autopurge.purgeInterval")
    return detail::NonNegativeInt(raw_key, value, &cfg->purge_interval_hours, error);
  if (key == "preAllocSize") {
    if (!detail::IntValue(raw_key, value, 1, std::numeric_limits<int64_t>::max() / 1024, "expected a positive integer",
                          &cfg->pre_alloc_size_kb, error)) {
      return false;
    }
    return true;
  }
  if (key == "clientPortListenBacklog") {
    if (!detail::IntValue(raw_key, value, -1, std::numeric_limits<int32_t>::max(), "expected an integer >= -1", &v64,
                          error)) {
      return false;
    }
    cfg->client_port_listen_backlog = static_cast<int>(v64);
    return true;
  }
  bool handled = false;
  if (!EnsembleKey(raw_key, key, value, cfg, p, &handled, error)) return false;
  if (handled) return true;
  if (!SyncTuningKey(raw_key, key, value, cfg, &handled, error)) return false;
  if (handled) return true;
  if (!detail::ApplyTlsKey(raw_key, value, cfg, &handled, error)) return false;
  if (handled) return true;
  if (key == "peerType") {
    cfg->peer_type_set = true;
    std::string lower(value);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "observer") {
      cfg->peer_type = PeerType::kObserver;
    } else if (lower == "participant") {
      cfg->peer_type = PeerType::kParticipant;
    } else {
      return Invalid(raw_key, value, "expected 'participant' or 'observer'", error);
    }
    return true;
  }
  if (key == "admin.enableServer") return detail::BoolValue(raw_key, value, &cfg->admin_enable_server, error);
  if (key == "admin.serverPort") return detail::PortValue(raw_key, value, false, &cfg->admin_server_port, error);
  if (key == "admin.serverAddress") {
    cfg->admin_server_address = std::string(value);
    return true;
  }
  if (key == "admin.commandURL") {
    if (value.empty() || value[0] != '/') return Invalid(raw_key, value, "expected a path starting with /", error);
    cfg->admin_command_url = std::string(value);
    while (cfg->admin_command_url.size() > 1 && cfg->admin_command_url.back() == '/') cfg->admin_command_url.pop_back();
    return true;
  }
  if (key == "admin.idleTimeout") {
    return detail::IntValue(raw_key, value, 1, std::numeric_limits<int32_t>::max(), "expected a positive integer",
                            &cfg->admin_idle_timeout_ms, error);
  }
  if (key == "admin.snapshot.enabled") return detail::BoolValue(raw_key, value, &cfg->admin_snapshot_enabled, error);
  if (key == "admin.restore.enabled") return detail::BoolValue(raw_key, value, &cfg->admin_restore_enabled, error);
  if (key == "admin.rateLimiterIntervalInMS") {
    return detail::IntValue(raw_key, value, 0, std::numeric_limits<int32_t>::max(), "expected a non-negative integer",
                            &cfg->admin_rate_limiter_interval_ms, error);
  }
  // HTTPS on the AdminServer (JettyAdminServer: forceHttps wins over
  // portUnification; needClientAuth is 3.9's).
  if (key == "admin.forceHttps") return detail::BoolValue(raw_key, value, &cfg->admin_force_https, error);
  if (key == "admin.portUnification") return detail::BoolValue(raw_key, value, &cfg->admin_port_unification, error);
  if (key == "admin.needClientAuth") return detail::BoolValue(raw_key, value, &cfg->admin_need_client_auth, error);
  if (key == "aviary.maxSessions") return detail::PositiveInt(raw_key, value, &cfg->max_sessions, error);
  bool log_key = false;
  if (!detail::LoggingKey(raw_key, key, value, cfg, &log_key, error)) return false;
  if (log_key) return true;
  if (key == "aviary.digest.stopOnMismatch") {
    bool stop = false;
    if (!detail::BoolValue(raw_key, value, &stop, error)) return false;
    cfg->digest_stop_on_mismatch = stop;
    return true;
  }
  if (key == "aviary.forkSnapshots") return detail::BoolValue(raw_key, value, &cfg->fork_snapshots, error);
  if (key == "aviary.earlyReplies") return detail::BoolValue(raw_key, value, &cfg->early_replies, error);
  if (key == "aviary.snapshotSliceMicros") {
    return detail::IntValue(raw_key, value, 0, 1000000, "expected microseconds 0-1000000", &cfg->snapshot_slice_us,
                            error);
  }
  if (key == "aviary.snapshotWritebackKiB") {
    return detail::IntValue(raw_key, value, 0, 1 << 20, "expected KiB 0-1048576", &cfg->snapshot_writeback_kib, error);
  }
  if (key == "aviary.snapshotBoundedWriteback") {
    return detail::BoolValue(raw_key, value, &cfg->snapshot_bounded_writeback, error);
  }
  if (key == "aviary.snapshotIdleIo") return detail::BoolValue(raw_key, value, &cfg->snapshot_idle_io, error);
  if (key == "aviary.snapshotNice") {
    return detail::IntValue(raw_key, value, 0, 19, "expected a nice value 0-19", &cfg->snapshot_nice, error);
  }
  if (key == "aviary.snapshotTimeoutMs") {
    return detail::IntValue(raw_key, value, 100, std::numeric_limits<int32_t>::max(),
                            "expected milliseconds, at least 100", &cfg->snapshot_timeout_ms, error);
  }
  if (key == "aviary.threadPlacement") {
    if (value != "auto" && value != "off" && value != "confine") {
      return Invalid(raw_key, value, "expected auto or off", error);
    }
    cfg->thread_placement = std::string(value);
    return true;
  }
  if (key == "aviary.walGroupLingerUs") {
    return detail::IntValue(raw_key, value, 0, 100000, "expected microseconds 0-100000", &cfg->wal_group_linger_us,
                            error);
  }
  if (key == "aviary.ioThreads") {
    if (!detail::IntValue(raw_key, value, 1, 64, "expected an integer 1-64", &v64, error)) return false;
    cfg->io_threads = static_cast<int>(v64);
    return true;
  }
  if (key == "aviary.maxWatchesPerSession") {
    return detail::IntValue(raw_key, value, 0, std::numeric_limits<int64_t>::max(), "expected an integer >= 0",
                            &cfg->max_watches_per_session, error);
  }
  if (key == "aviary.maxWatchBytesPerSession") {
    return detail::IntValue(raw_key, value, 0, std::numeric_limits<int64_t>::max(), "expected an integer >= 0",
                            &cfg->max_watch_bytes_per_session, error);
  }
  if (key == "aviary.containerCheckIntervalMs" || key == "znode.container.checkIntervalMs") {
    return detail::IntValue(raw_key, value, 1, std::numeric_limits<int32_t>::max(), "expected a positive integer",
                            &cfg->container_check_interval_ms, error);
  }
  if (key == "maxCnxns") return detail::NonNegativeInt(raw_key, value, &cfg->max_cnxns, error);
  bool auth_key = false;
  if (!detail::AuthKey(raw_key, value, cfg, &auth_key, error)) return false;
  if (auth_key) return true;
  bool metrics_key = false;
  if (!detail::MetricsKey(raw_key, value, cfg, &metrics_key, error)) return false;
  if (metrics_key) return true;

  std::string why;
  switch (detail::ClassifyUnhandledKey(key, value, &why)) {
    case detail::KeyPolicy::kAccepted:
      break;
    case detail::KeyPolicy::kRefused:  // the value is not echoed: it may be a password
      cfg->refused.push_back(fmt::format("{}: {}", raw_key, why));
      break;
    case detail::KeyPolicy::kIgnored:
      cfg->warnings.push_back(fmt::format("ignoring {}={}: not supported by Aviary", raw_key, value));
      break;
    case detail::KeyPolicy::kUnknown:
      cfg->warnings.push_back(fmt::format("unknown configuration key {} (value '{}') ignored", raw_key, value));
      break;
  }
  return true;
}

// QuorumPeerConfig.parseDynamicConfig's checks of the member list, and
// checkValidity's limits for a distributed config.
bool CheckServerList(ServerConfig* cfg, std::string* error) {
  size_t participants = 0, observers = 0;
  for (const QuorumServerSpec& s : cfg->servers) (s.type == PeerType::kObserver ? observers : participants)++;
  if (participants == 0) {
    if (!cfg->standalone_enabled) {
      *error = "standaloneEnabled = false then number of participants should be >0";
      return false;
    }
    if (observers > 0) {
      *error = "Observers w/o participants is an invalid configuration";
      return false;
    }
  } else if (participants == 1 && cfg->standalone_enabled) {
    if (observers > 0) {
      *error = "Observers w/o quorum is an invalid configuration";
      return false;
    }
    cfg->warnings.push_back("Invalid configuration, only one server specified (ignoring)");
  } else if (participants <= 2) {
    cfg->warnings.push_back("No server failure will be tolerated. You need at least 3 servers.");
  } else if (participants % 2 == 0) {
    cfg->warnings.push_back("Non-optimal configuration, consider an odd number of servers.");
  }
  if (IsDistributed(*cfg)) {
    if (cfg->init_limit == 0) {
      *error = "initLimit is not set";
      return false;
    }
    if (cfg->sync_limit == 0) {
      *error = "syncLimit is not set";
      return false;
    }
  }
  return true;
}

// Cross-key checks after all keys are applied (mirrors QuorumPeerConfig).
bool Finish(const Pending& p, ServerConfig* cfg, std::string* error) {
  if (cfg->data_dir.empty()) {
    *error = "dataDir is not set";
    return false;
  }
  if (cfg->data_log_dir.empty()) cfg->data_log_dir = cfg->data_dir;
  int64_t tick = cfg->tick_time_ms;
  auto clamp = [](int64_t v) { return static_cast<int>(std::min<int64_t>(v, std::numeric_limits<int32_t>::max())); };
  cfg->min_session_timeout_ms = p.min_session == kUnset ? clamp(2 * tick) : p.min_session;
  cfg->max_session_timeout_ms = p.max_session == kUnset ? clamp(20 * tick) : p.max_session;
  if (cfg->min_session_timeout_ms > cfg->max_session_timeout_ms) {
    *error = fmt::format("invalid value for minSessionTimeout: '{}' (must not be larger than maxSessionTimeout {})",
                         cfg->min_session_timeout_ms, cfg->max_session_timeout_ms);
    return false;
  }
  if (p.observer_sync != kUnset) cfg->sync_enabled = p.observer_sync == 1;
  if (!cfg->dynamic_config_file.empty() && !p.first_member_key.empty()) {
    *error = fmt::format("parameter: {} must be in a separate dynamic config file", p.first_member_key);
    return false;
  }
  for (const auto& [key, value] : p.server_lines) {
    if (!ServerLine(key, value, &cfg->servers, cfg->multi_address_enabled, error)) return false;
  }
  cfg->hierarchical_quorum = p.hierarchical;
  // With a dynamic file the member list is checked once it is read.
  if (cfg->dynamic_config_file.empty() && !CheckServerList(cfg, error)) return false;
  detail::AddEnsembleRefusals(cfg);
  if (!detail::FinishTls(cfg, error)) return false;
  return detail::FinishAuth(cfg, error);
}

bool ReadFile(const std::string& path, std::string* out, std::string* error) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    *error = fmt::format("cannot open {}: {}", path, std::strerror(errno));
    return false;
  }
  out->clear();
  char buf[8192];
  size_t n;
  bool ok = true;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    if (out->size() + n > kMaxConfigFileBytes) {
      *error = fmt::format("{} is larger than {} bytes", path, kMaxConfigFileBytes);
      ok = false;
      break;
    }
    out->append(buf, n);
  }
  if (ok && std::ferror(f)) {
    *error = fmt::format("cannot read {}: {}", path, std::strerror(errno));
    ok = false;
  }
  std::fclose(f);
  return ok;
}

}  // namespace

bool ParseZooConfig(std::string_view text, ServerConfig* out, std::string* error) {
  return ParseZooConfigWithFlags(text, {}, out, error);
}

bool ParseZooConfigWithFlags(std::string_view text, const PropertyList& flag_props, ServerConfig* out,
                             std::string* error) {
  PropertyList cfg_props;
  if (!ParseProperties(text, &cfg_props, error)) return false;
  PropertyList props = MergeFlagProperties(flag_props, cfg_props);
  std::destroy_at(out);  // not *out = ServerConfig{}: GCC 12 -O3 warns (falsely) on the temporary
  std::construct_at(out);
  for (size_t i = 0; i + cfg_props.size() < props.size(); ++i) {
    out->warnings.push_back(fmt::format("{} is set by a -D{} JVM flag (zoo.cfg does not set it)",
                                        std::string_view(props[i].first).substr(std::string_view("zookeeper.").size()),
                                        props[i].first));
  }
  Pending pending;
  for (const auto& [k, v] : props) {
    std::string_view key = detail::Trim(k);
    std::string_view value = detail::Trim(v);
    if (key.empty()) continue;
    if (!ApplyKey(key, value, out, &pending, error)) return false;
  }
  return Finish(pending, out, error);
}

bool IsDistributed(const ServerConfig& cfg) {
  size_t participants = 0;
  for (const QuorumServerSpec& s : cfg.servers) participants += s.type == PeerType::kParticipant;
  return !cfg.standalone_enabled || participants > 1;
}

bool ApplyDynamicConfig(std::string_view text, bool allow_version, ServerConfig* cfg, std::string* error) {
  PropertyList props;
  if (!ParseProperties(text, &props, error)) return false;
  std::vector<QuorumServerSpec> servers;
  for (const auto& [k, v] : props) {
    std::string_view key = detail::Trim(k);
    std::string_view value = detail::Trim(v);
    if (key.empty()) continue;
    if (key.starts_with("server.")) {
      if (!ServerLine(key, value, &servers, cfg->multi_address_enabled, error)) return false;
    } else if (key == "version") {
      if (!allow_version) {
        *error = "dynamic file shouldn't have version inside";
        return false;
      }
      if (!detail::ParseHexInt64(value, &cfg->config_version)) {
        return Invalid(key, value, "expected a hexadecimal configuration version", error);
      }
    } else if (key.starts_with("group") || key.starts_with("weight")) {
      *error = fmt::format("{}: hierarchical quorums (group/weight) are not supported", key);
      return false;
    } else {
      *error = fmt::format("Unrecognised parameter: {}", key);
      return false;
    }
  }
  cfg->servers = std::move(servers);
  if (!CheckServerList(cfg, error)) return false;
  detail::AddEnsembleRefusals(cfg);
  return true;
}

namespace {

std::string EnvOrEmpty(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// The -Dzookeeper.* flags ZooKeeper's scripts would pass: java.env beside
// zoo.cfg (sourced first, by zkEnv.sh), then SERVER_JVMFLAGS, then JVMFLAGS.
PropertyList JvmFlagProperties(const std::string& config_path) {
  size_t slash = config_path.rfind('/');
  std::string java_env = (slash == std::string::npos ? std::string(".") : config_path.substr(0, slash)) + "/java.env";
  std::string text;
  std::string ignored;
  std::string flags;
  if (ReadFile(java_env, &text, &ignored)) flags = text.substr(0, 64 * 1024);
  flags += "\n" + EnvOrEmpty("SERVER_JVMFLAGS") + "\n" + EnvOrEmpty("JVMFLAGS");
  return ZooKeeperPropertiesInFlags(flags);
}

bool LoadDynamicConfig(ServerConfig* out, std::string* error) {
  const std::string& path = out->dynamic_config_file;
  std::string text;
  if (!ReadFile(path, &text, error)) return false;
  int64_t version = 0;
  if (ConfigVersionFromFileName(path, &version)) out->config_version = version;
  if (!ApplyDynamicConfig(text, false, out, error)) {
    *error = fmt::format("error processing {}: {}", path, *error);
    return false;
  }
  return true;
}

}  // namespace

bool LoadZooConfig(const std::string& path, ServerConfig* out, std::string* error) {
  std::string text;
  if (!ReadFile(path, &text, error)) return false;
  if (!ParseZooConfigWithFlags(text, JvmFlagProperties(path), out, error)) {
    *error = fmt::format("error processing {}: {}", path, *error);
    return false;
  }
  if (!out->dynamic_config_file.empty() && !LoadDynamicConfig(out, error)) return false;
  if (out->servers.empty() && out->standalone_enabled) return true;
  std::string myid_path = out->data_dir + "/myid";
  std::string myid;
  std::string read_error;
  if (ReadFile(myid_path, &myid, &read_error)) {
    if (!ApplyMyId(myid, out, error)) {
      *error = fmt::format("error processing {}: {}", myid_path, *error);
      return false;
    }
    return true;
  }
  if (IsDistributed(*out)) {
    *error = fmt::format("myid file is missing ({})", myid_path);
    return false;
  }
  return true;
}

bool CheckHonoured(const ServerConfig& cfg, std::string* error) {
  if (cfg.refused.empty()) return true;
  *error = "refusing to start: this configuration asks for what Aviary cannot do, and ignoring it would be unsafe:";
  for (const std::string& r : cfg.refused) *error += "\n  " + r;
  return false;
}

}  // namespace aviary::config
