// zoo.cfg: the server configuration, read exactly like Apache ZooKeeper 3.8
// reads it (java.util.Properties syntax, see properties.h; keys and values
// trimmed; a repeated key keeps the last value).
//
// Owns: ServerConfig (all values resolved: defaults applied, session timeout
// defaults derived from tickTime) and its parsing/validation. Keys that
// ZooKeeper only reads as "zookeeper.<key>" system properties are accepted
// both bare and with the "zookeeper." prefix. Aviary-specific knobs use the
// "aviary." prefix. Unknown keys never fail: they are reported in
// ServerConfig::warnings, which the server logs. Keys that change safety or
// security and cannot be honoured are collected in ServerConfig::refused
// (see key_policy.h); CheckHonoured reports them.
// An ensemble member's keys (server.N, initLimit, syncLimit, peerType,
// electionAlg, ..., dynamicConfigFile) are parsed and validated with
// ZooKeeper 3.8's rules; quorum_config.h builds the ensemble view from them.
// Running an ensemble is refused for now (key_policy.h, AddEnsembleRefusals).
// Errors name the key and the value, e.g.
//   invalid value for tickTime: 'abc' (expected a positive integer)
// Relative paths (dataDir, dataLogDir) are kept as written and resolve
// against the server's current directory.
// Thread use: plain data; parse once at startup, then share read-only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/four_letter_whitelist.h"
#include "config/metrics_config.h"
#include "config/properties.h"
#include "tls/options.h"

namespace aviary::config {

inline constexpr double kDefaultSnapshotSizeFactor = 0.33;  // ZKDatabase.DEFAULT_SNAPSHOT_SIZE_FACTOR
inline constexpr int kDefaultCommitLogCount = 500;          // ZKDatabase.DEFAULT_COMMIT_LOG_COUNT

enum class PeerType { kParticipant, kObserver };

// One quorum address of a server: where it listens for learners (peer port)
// and for leader election.
struct QuorumAddress {
  std::string host;
  uint16_t peer_port = 0;
  uint16_t election_port = 0;
  bool operator==(const QuorumAddress&) const = default;
};

// One "server.N=host:peerPort:electionPort[:participant|:observer][;[clientHost:]clientPort]"
// line; with multiAddress.enabled=true several '|'-separated
// host:peerPort:electionPort[:type] parts (all of the same type).
struct QuorumServerSpec {
  int64_t id = 0;
  // The first address (compatibility); `addresses` has them all, in order.
  std::string host;
  uint16_t peer_port = 0;
  uint16_t election_port = 0;
  std::vector<QuorumAddress> addresses;
  PeerType type = PeerType::kParticipant;
  std::string client_host;   // "0.0.0.0" when only a client port is given; empty when no client part
  uint16_t client_port = 0;  // 0 when the line has no client part
};

inline constexpr size_t kMaxQuorumServers = 255;
inline constexpr size_t kMaxConfigFileBytes = 1 << 20;

struct ServerConfig {
  // --- used by Aviary ---
  int tick_time_ms = 3000;              // tickTime
  uint16_t client_port = 2181;          // clientPort (0: the OS picks a free port)
  bool client_port_set = false;         // clientPort appeared in the file
  std::string client_port_address;      // clientPortAddress; empty = all interfaces
  std::string data_dir;                 // dataDir (required)
  std::string data_log_dir;             // dataLogDir (defaults to dataDir)
  int max_client_cnxns = 60;            // maxClientCnxns per client IP, 0 = unlimited
  int min_session_timeout_ms = 6000;    // minSessionTimeout (default 2 * tickTime)
  int max_session_timeout_ms = 60000;   // maxSessionTimeout (default 20 * tickTime)
  int64_t jute_max_buffer = 0xfffff;    // jute.maxbuffer, bytes
  bool extended_types_enabled = false;  // extendedTypesEnabled (TTL nodes)
  bool enforce_quota = false;           // enforceQuota: hard quota limits refuse writes
  FourLetterWhitelist four_letter_whitelist = DefaultFourLetterWhitelist();  // 4lw.commands.whitelist
  int global_outstanding_limit = 1000;                                       // globalOutstandingLimit
  std::string super_digest;             // DigestAuthenticationProvider.superDigest ("super:<base64 sha1>")
  bool force_sync = true;               // forceSync (yes/no)
  int snap_count = 100000;              // snapCount (min 2)
  int snap_retain_count = 3;            // autopurge.snapRetainCount (min 3)
  int purge_interval_hours = 0;         // autopurge.purgeInterval (0 = off)
  int64_t pre_alloc_size_kb = 65536;    // preAllocSize, KiB
  int client_port_listen_backlog = -1;  // clientPortListenBacklog (-1 = OS default)
  int64_t server_id = 0;                // from dataDir/myid (0 when absent)
  bool has_myid = false;

  // --- Aviary-specific ---
  int max_sessions = 100000;       // aviary.maxSessions: bound on live sessions
  std::string log_level = "info";  // aviary.logLevel: "<level>[,<module>=<level>]..." (base/log.h)
  // Logging and the audit log (logging_keys.cc, docs/OPERATIONS.md "Logging", "Audit log").
  std::string log_file;                             // aviary.log.file (empty: stderr)
  int64_t log_max_file_bytes = 10 * 1024 * 1024;    // aviary.log.maxFileSize (0: no rotation)
  int log_max_backups = 10;                         // aviary.log.maxBackups
  std::string log_format = "plain";                 // aviary.log.format: plain|journal
  bool audit_enable = false;                        // audit.enable (zookeeper.audit.enable)
  std::string audit_log_file;                       // aviary.audit.logFile (empty: default place)
  int64_t audit_max_file_bytes = 10 * 1024 * 1024;  // aviary.audit.maxFileSize (0: no rotation)
  int audit_max_backups = 10;                       // aviary.audit.maxBackups
  int64_t audit_queue_bytes = 8 * 1024 * 1024;      // aviary.audit.queueBytes
  bool fork_snapshots = false;                      // aviary.forkSnapshots: write snapshots from a forked child
  bool early_replies = true;                        // aviary.earlyReplies: setData answered once durable
  // aviary.digest.stopOnMismatch: an ensemble learner whose tree digest
  // differs from its leader's stops. Unset: it stops when its leader is
  // an Aviary server (LEADERINFO says so), and only counts under ZooKeeper.
  std::optional<bool> digest_stop_on_mismatch;
  // aviary.snapshotTimeoutMs: a snapshot child still running after this is
  // killed (its temporary file removed) and the next snapshot may start.
  int64_t snapshot_timeout_ms = 600000;
  // aviary.snapshotSliceMicros: the longest slice of a fuzzy snapshot the
  // core serialises between request batches (0: bounded by nodes only).
  int64_t snapshot_slice_us = 500;
  // aviary.snapshotWritebackKiB: the snapshot's writeback starts every this
  // many KiB written (0: only at its final fsync). aviary.
  // snapshotBoundedWriteback: each start also waits until the range before
  // it is on disk, so at most two ranges are queued at a time.
  // aviary.snapshotIdleIo: the snapshot's I/O goes in the idle I/O class.
  int64_t snapshot_writeback_kib = 1024;
  bool snapshot_bounded_writeback = false;
  bool snapshot_idle_io = false;
  // aviary.snapshotNice: the snapshot thread's nice value (0-19).
  int64_t snapshot_nice = 0;
  int io_threads = 2;  // aviary.ioThreads: network I/O threads (1-64)
  // aviary.walGroupLingerUs: the longest a small group of writes may wait
  // for more before its durable write, at moderate rates only
  // (server::GroupLinger; 0: never). Standalone.
  int64_t wal_group_linger_us = 1000;
  // aviary.threadPlacement: "off" (the default: the scheduler places every
  // thread), "auto" (the core and I/O threads go to the CPUs that do not take
  // the log disk's interrupts while those have room) or "confine" (always
  // there, for experiments). server/thread_placement.h.
  std::string thread_placement = "off";
  // aviary.maxWatchesPerSession: watch-table entries one connection may hold
  // (ZooKeeper's watch_count unit); aviary.maxWatchBytesPerSession: the sum
  // of the lengths of the paths it watches. 0 = unlimited. Past either, a
  // request that would add a watch is answered QUOTAEXCEEDED.
  int64_t max_watches_per_session = 1000000;
  int64_t max_watch_bytes_per_session = 256LL << 20;
  // aviary.containerCheckIntervalMs (alias znode.container.checkIntervalMs)
  int64_t container_check_interval_ms = 60000;

  int max_cnxns = 0;  // maxCnxns: client connections in total, 0 = no limit

  // --- client authentication (issue 8; config/auth_config.cc, docs/security/sasl.md).
  // Each key also with the "zookeeper." system-property prefix. ---
  struct Sasl {
    bool provider = false;                 // authProvider.N=org.apache.zookeeper.server.auth.SASLAuthenticationProvider
    std::string jaas_config;               // aviary.sasl.jaasConfig (else found as ZooKeeper's scripts pass it)
    std::string login_context = "Server";  // sasl.serverconfig: the JAAS section of the server's login
    std::vector<std::string> super_users;  // superUser, superUser.<anything>: SASL ids that are super
    std::string super_password;            // SASLAuthenticationProvider.superPassword (DIGEST-MD5 user "super")
    bool remove_host = false;              // kerberos.removeHostFromPrincipal
    bool remove_realm = false;             // kerberos.removeRealmFromPrincipal
    bool allow_failed_clients = false;     // allowSaslFailedClients
  };
  Sasl sasl;
  // Quorum SASL (QuorumPeerConfig's quorum.auth.* keys, zoo.cfg only;
  // docs/security/sasl.md "Quorum SASL"): DIGEST-MD5 between members, the
  // JAAS file found as for the client port (aviary.sasl.jaasConfig or the
  // JVM flags). peer/quorum_auth.h.
  struct QuorumSasl {
    bool enable = false;                                   // quorum.auth.enableSasl
    bool learner_require = false;                          // quorum.auth.learnerRequireSasl
    bool server_require = false;                           // quorum.auth.serverRequireSasl
    std::string learner_context = "QuorumLearner";         // quorum.auth.learner.saslLoginContext
    std::string server_context = "QuorumServer";           // quorum.auth.server.saslLoginContext
    std::string service_principal = "zkquorum/localhost";  // quorum.auth.kerberos.servicePrincipal (Kerberos only)
  };
  QuorumSasl quorum_sasl;
  // AuthenticationHelper: enforce.auth.enabled, enforce.auth.schemes (comma
  // separated), sessionRequireClientSASLAuth=true (= enabled with "sasl"
  // only, whatever the other two say).
  bool enforce_auth_enabled = false;
  std::vector<std::string> enforce_auth_schemes;
  bool session_require_sasl = false;

  // --- ensemble: parsed and validated (BuildQuorumConfig, quorum_config.h);
  // running an ensemble is still refused (key_policy.h) ---
  int init_limit = 0;                             // initLimit (ticks)
  int sync_limit = 0;                             // syncLimit (ticks)
  PeerType peer_type = PeerType::kParticipant;    // peerType (the server.N line wins, with a warning)
  bool peer_type_set = false;                     // peerType appeared in the file
  std::vector<QuorumServerSpec> servers;          // server.N lines (zoo.cfg or dynamicConfigFile), in file order
  int election_alg = 3;                           // electionAlg: only 3 (fast leader election) is valid
  int election_port_bind_retry = 3;               // electionPortBindRetry: bind attempts, 0 = forever
  bool quorum_listen_on_all_ips = false;          // quorumListenOnAllIPs
  bool readonly_mode_enabled = false;             // readonlymode.enabled (a JVM system property in ZooKeeper)
  bool sync_enabled = true;                       // syncEnabled / observer.syncEnabled: observers log txns
  bool local_sessions_enabled = false;            // localSessionsEnabled
  bool local_sessions_upgrading_enabled = false;  // localSessionsUpgradingEnabled
  bool reconfig_enabled = false;                  // reconfigEnabled
  bool multi_address_enabled = false;             // multiAddress.enabled: '|' in server.N
  // digest.enabled (zookeeper.digest.enabled): txns carry ZooKeeper's tree
  // digest and members compare it; false: none sent, none compared.
  bool digest_enabled = true;
  // snapshotSizeFactor (zookeeper.snapshotSizeFactor): a leader sends SNAP
  // rather than a DIFF from its log when the log files the DIFF reads exceed
  // this times the newest snapshot's size; negative: no DIFF from the log
  // (only within the last commitLogCount txns). commitLogCount
  // (zookeeper.commitLogCount, at least 500): a learner that missed at most
  // this many txns gets a DIFF whatever their size (ZooKeeper's in-memory
  // committed log).
  double snapshot_size_factor = kDefaultSnapshotSizeFactor;
  int commit_log_count = kDefaultCommitLogCount;
  std::string dynamic_config_file;  // dynamicConfigFile (read by LoadZooConfig)
  // The configuration's version (hex in ZooKeeper): the dynamic file name's
  // suffix (zoo.cfg.dynamic.100000000), or a "version" key; 0 otherwise.
  int64_t config_version = 0;
  bool hierarchical_quorum = false;              // group.N / weight.N keys (not supported: BuildQuorumConfig refuses)
  bool admin_enable_server = true;               // admin.enableServer
  uint16_t admin_server_port = 8080;             // admin.serverPort
  std::string admin_server_address = "0.0.0.0";  // admin.serverAddress
  // The rest of the AdminServer's keys (src/adminserver; zoo.cfg or
  // -Dzookeeper.admin.*): admin.commandURL, admin.idleTimeout (ms),
  // admin.snapshot.enabled / admin.restore.enabled (3.9's feature flags),
  // admin.rateLimiterIntervalInMS (3.9: one snapshot / restore per interval).
  std::string admin_command_url = "/commands";
  int64_t admin_idle_timeout_ms = 30000;
  bool admin_snapshot_enabled = true;
  bool admin_restore_enabled = true;
  int64_t admin_rate_limiter_interval_ms = 300000;
  // HTTPS on the AdminServer with the ssl.quorum.* key and trust stores
  // (JettyAdminServer + QuorumX509Util): admin.forceHttps (HTTPS only),
  // admin.portUnification (HTTP and HTTPS on admin.serverPort; forceHttps
  // wins), admin.needClientAuth (3.9: a client certificate the trust store
  // signed is required).
  bool admin_force_https = false;
  bool admin_port_unification = false;
  bool admin_need_client_auth = false;
  bool AdminHttps() const { return admin_force_https || admin_port_unification; }
  MetricsProviderConfig metrics_provider;  // metricsProvider.* (config/metrics_config.h)

  bool standalone_enabled = true;  // standaloneEnabled (false is refused)

  // --- TLS on the client port and x509 authentication (issue 8, tls_keys.cc) ---
  uint16_t secure_client_port = 0;         // secureClientPort (0 with the key set: the OS picks)
  bool secure_client_port_set = false;     // secureClientPort appeared in the file
  std::string secure_client_port_address;  // secureClientPortAddress; empty = all interfaces
  bool port_unification = false;           // client.portUnification: clientPort also takes TLS
  tls::TlsOptions tls;                     // ssl.* (also zookeeper.ssl.*), client.certReload
  std::string server_cnxn_factory;         // serverCnxnFactory (Aviary has one network layer)
  // The x509 scheme exists (ZooKeeper's ProviderRegistry): set when TLS is
  // in use (QuorumPeerConfig.configureSSLAuth) or an authProvider.N names
  // X509AuthenticationProvider.
  bool x509_provider = false;
  std::string x509_super_user;                   // X509AuthenticationProvider.superUser: this DN is also ("super", dn)
  std::string ssl_auth_provider = "x509";        // ssl.authProvider
  std::vector<std::string> x509_provider_names;  // the N of authProvider.N=...X509AuthenticationProvider
  bool TlsInUse() const { return secure_client_port_set || port_unification; }
  // --- quorum TLS (issue 8 part 4, tls_keys.cc; QuorumX509Util) ---
  bool ssl_quorum = false;               // sslQuorum: members connect to each other over TLS
  bool quorum_port_unification = false;  // portUnification: quorum/election ports take TLS and plaintext
  tls::TlsOptions quorum_tls;            // ssl.quorum.*; cert_reload = sslQuorumReloadCertFiles

  // Non-fatal findings (unknown keys, ignored keys, clamped values).
  std::vector<std::string> warnings;
  // Settings Aviary can neither honour nor safely ignore: quorum membership
  // (two or more participants, standaloneEnabled=false, dynamicConfigFile,
  // reconfigEnabled=true), TLS, client/quorum authentication it lacks, skipACL,
  // read-only mode, auditing. One "<key>: <why>" line each, never the value.
  // Parsing succeeds regardless; CheckHonoured turns them into an error.
  std::vector<std::string> refused;
};

// ZooKeeper's QuorumPeerConfig.isDistributed: an ensemble member rather than
// a standalone server (two or more participants, or standaloneEnabled=false).
bool IsDistributed(const ServerConfig& cfg);

// Parses zoo.cfg text. Does not touch the file system (no myid lookup).
// On failure returns false, sets *error, and leaves *out unspecified.
bool ParseZooConfig(std::string_view text, ServerConfig* out, std::string* error);
// As ParseZooConfig, with settings from -Dzookeeper.* JVM flags
// (jvm_flags.h) under zoo.cfg's: a key zoo.cfg sets wins.
bool ParseZooConfigWithFlags(std::string_view text, const PropertyList& flag_props, ServerConfig* out,
                             std::string* error);

// False, with an error naming every refused key, when cfg.refused is not
// empty. aviary-server calls it before starting: such a config must not run.
bool CheckHonoured(const ServerConfig& cfg, std::string* error);

// Reads and parses the file at `path` (at most kMaxConfigFileBytes), then
// the dynamicConfigFile it names, if any. When server.N lines are present
// and <dataDir>/myid exists, reads the server id from its first line; a
// distributed config (two or more participants, or standaloneEnabled=false)
// without myid fails like ZooKeeper ("myid file is missing"). Settings that
// ZooKeeper's scripts would pass as -Dzookeeper.<key>=<value> JVM flags
// (java.env beside zoo.cfg, SERVER_JVMFLAGS, JVMFLAGS) apply where zoo.cfg
// does not set the key (jvm_flags.h).
bool LoadZooConfig(const std::string& path, ServerConfig* out, std::string* error);

// Applies the myid file contents (first line, a decimal integer) to *cfg.
// Exposed for tests; LoadZooConfig calls it.
bool ApplyMyId(std::string_view myid_text, ServerConfig* cfg, std::string* error);

// Parses one server.N value; `id` is N. '|' (several addresses) only with
// multi_address_enabled, as ZooKeeper. Exposed for tests.
bool ParseQuorumServer(int64_t id, std::string_view value, QuorumServerSpec* out, std::string* error,
                       bool multi_address_enabled = false);

// The contents of a dynamic configuration file (dynamicConfigFile): only
// server.N lines (group.* / weight.*: hierarchical quorums are refused as
// unsupported). As ZooKeeper 3.8, a "version" line inside is an error
// unless allow_version (the zoo.cfg.dynamic.next form); the version comes
// from the file name: ConfigVersionFromFileName. Replaces cfg->servers and
// runs the server-list checks.
bool ApplyDynamicConfig(std::string_view text, bool allow_version, ServerConfig* cfg, std::string* error);
// "zoo.cfg.dynamic.100000000" -> 0x100000000; false when the name has no
// hex suffix after its last '.' (then the version is 0).
bool ConfigVersionFromFileName(std::string_view path, int64_t* version);

}  // namespace aviary::config
