// aviary-server: runs an Aviary server from a zoo.cfg file: standalone, or a
// member of an ensemble when the file has server.N lines (and myid).
//   aviary-server path/to/zoo.cfg
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "audit/ops.h"
#include "base/log.h"
#include "config/quorum_config.h"
#include "config/zoo_config.h"
#include "server/heap_release.h"
#include "server/logging_setup.h"
#include "server/sasl_setup.h"
#include "server/server.h"
#include "server/session_secret.h"
#include "server/version.h"
#include "tls/context.h"
#include "txn/acl.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: aviary-server [--repair] [--log-level=SPEC] path/to/zoo.cfg\n"
               "       aviary-server --version\n"
               "  --repair     start even if the transaction log or the newest snapshots are corrupt:\n"
               "               replay stops at the first bad record (everything after it is lost)\n"
               "  --log-level  over aviary.logLevel: <level>[,<module>=<level>]... (debug, info, warn, error;\n"
               "               e.g. info,peer=debug)\n"
               "signals: SIGHUP re-reads aviary.logLevel from zoo.cfg and reopens the log and audit files;\n"
               "         SIGUSR1 reopens them (after logrotate); SIGTERM/SIGINT stop the server\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace aviary;
  server::LimitMallocArenas();  // before any thread starts (heap_release.h)
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("aviary-server %s (ZooKeeper protocol %s)\n", server::kAviaryVersion, server::kZooKeeperVersion);
    return 0;
  }
  bool repair = false;
  const char* config_path = nullptr;
  std::string level_flag;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--repair") == 0) {
      repair = true;
    } else if (std::strncmp(argv[i], "--log-level=", 12) == 0) {
      level_flag = argv[i] + 12;
    } else if (argv[i][0] == '-' || config_path != nullptr) {
      return Usage();
    } else {
      config_path = argv[i];
    }
  }
  if (config_path == nullptr) return Usage();

  config::ServerConfig cfg;
  std::string error;
  if (!config::LoadZooConfig(config_path, &cfg, &error)) {
    std::fprintf(stderr, "aviary-server: %s: %s\n", config_path, error.c_str());
    return 1;
  }
  if (!server::SetUpLogging(cfg, level_flag, &error)) {
    std::fprintf(stderr, "aviary-server: %s: %s\n", config_path, error.c_str());
    return 1;
  }
  for (const auto& w : cfg.warnings) AV_LOG(kWarn, "{}: {}", config_path, w);
  if (!config::CheckHonoured(cfg, &error)) {
    std::fprintf(stderr, "aviary-server: %s: %s\n", config_path, error.c_str());
    return 1;
  }
  if (!cfg.force_sync) {
    AV_LOG(kWarn,
           "forceSync=no: writes are acknowledged before they reach the disk; a crash or power loss can "
           "lose acknowledged writes");
  }

  server::ServerOptions opts;
  opts.core.server_id = cfg.server_id;
  opts.core.tick_ms = cfg.tick_time_ms;
  opts.core.min_session_timeout_ms = cfg.min_session_timeout_ms;
  opts.core.max_session_timeout_ms = cfg.max_session_timeout_ms;
  opts.core.max_buffer = static_cast<int32_t>(cfg.jute_max_buffer);
  opts.core.extended_types_enabled = cfg.extended_types_enabled;
  opts.core.enforce_quota = cfg.enforce_quota;
  opts.core.super_digest = cfg.super_digest;
  opts.core.container_check_interval_ms = cfg.container_check_interval_ms;
  opts.core.max_sessions = static_cast<size_t>(cfg.max_sessions);
  opts.core.max_watches_per_session = static_cast<size_t>(cfg.max_watches_per_session);
  opts.core.max_watch_bytes_per_session = static_cast<size_t>(cfg.max_watch_bytes_per_session);
  if (!server::LoadOrCreateSessionSecret(cfg.data_dir, &opts.core.password_secret, &error)) {
    std::fprintf(stderr, "aviary-server: %s\n", error.c_str());
    return 1;
  }
  opts.core.config = cfg;
  if (!server::SetUpClientAuth(cfg, config_path, &opts.core, &error)) {
    std::fprintf(stderr, "aviary-server: %s: %s\n", config_path, error.c_str());
    return 1;
  }
  opts.net.bind_address = cfg.client_port_address;  // empty: the wildcard, dual-stack where IPv6 exists
  opts.net.port = cfg.client_port;
  opts.net.max_per_ip = cfg.max_client_cnxns;
  if (cfg.max_cnxns > 0) opts.net.max_connections = cfg.max_cnxns;
  opts.net.io_threads = cfg.io_threads;
  opts.wal_group_linger_us = cfg.wal_group_linger_us;
  server::placement::ParseMode(cfg.thread_placement, &opts.thread_placement);  // validated by the config
  opts.global_outstanding_limit = cfg.global_outstanding_limit;
  opts.net.listen_backlog = cfg.client_port_listen_backlog;
  opts.data_dir = cfg.data_dir;
  opts.data_log_dir = cfg.data_log_dir;
  opts.force_sync = cfg.force_sync;
  opts.prealloc_bytes = cfg.pre_alloc_size_kb * 1024;
  opts.snap_retain_count = cfg.snap_retain_count;
  opts.snapshot_timeout_ms = cfg.snapshot_timeout_ms;
  opts.snapshot_io.writeback.range_bytes = cfg.snapshot_writeback_kib * 1024;
  opts.snapshot_io.writeback.bounded = cfg.snapshot_bounded_writeback;
  opts.snapshot_io.idle_io_class = cfg.snapshot_idle_io;
  opts.snapshot_io.nice = static_cast<int>(cfg.snapshot_nice);
  opts.repair = repair;
  opts.core.snap_count = cfg.snap_count;
  opts.core.fork_snapshots = cfg.fork_snapshots;
  opts.early_replies = cfg.early_replies;
  opts.core.snapshot_slice_us = cfg.snapshot_slice_us;
  opts.core.purge_interval_ms = static_cast<int64_t>(cfg.purge_interval_hours) * 3600 * 1000;
  // The AdminServer (admin.*; src/adminserver).
  opts.admin.enabled = cfg.admin_enable_server;
  opts.admin.http.address = cfg.admin_server_address;
  opts.admin.http.port = cfg.admin_server_port;
  opts.admin.http.command_url = cfg.admin_command_url;
  opts.admin.http.idle_timeout_ms = cfg.admin_idle_timeout_ms;
  opts.admin.snapshot_enabled = cfg.admin_snapshot_enabled;
  opts.admin.restore_enabled = cfg.admin_restore_enabled;
  opts.admin.rate_limit_interval_ms = cfg.admin_rate_limiter_interval_ms;
  // HTTPS on the AdminServer (admin.forceHttps / admin.portUnification): a
  // store that cannot be used stops the start (ZooKeeper would run on
  // without its AdminServer; asking for HTTPS must not end in no admin port
  // unnoticed).
  if (!server::SetUpAdminHttps(cfg, &opts.admin.http, &error)) {
    std::fprintf(stderr, "aviary-server: %s: %s\n", config_path, error.c_str());
    return 1;
  }
  if (std::FILE* f = std::fopen(config_path, "rb")) {  // initial_configuration: the file as read
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && opts.admin.initial_config.size() < (1u << 20)) {
      opts.admin.initial_config.append(buf, n);
    }
    std::fclose(f);
  }
  config::QuorumConfig quorum;
  if (!config::BuildQuorumConfig(cfg, &quorum, &error)) {
    std::fprintf(stderr, "aviary-server: %s: %s\n", config_path, error.c_str());
    return 1;
  }
  for (const auto& w : quorum.warnings) AV_LOG(kWarn, "{}: {}", config_path, w);
  if (!quorum.standalone) opts.quorum = quorum;
  // Quorum SASL: ZooKeeper reads it for a quorum peer only.
  if (!quorum.standalone && !server::SetUpQuorumAuth(cfg, config_path, &opts.quorum_sasl, &error)) {
    std::fprintf(stderr, "aviary-server: %s: %s\n", config_path, error.c_str());
    return 1;
  }

  // TLS on the client port (secureClientPort, client.portUnification) and the x509 scheme.
  txn::SetX509SchemeEnabled(cfg.x509_provider);
  txn::SetSaslSchemeEnabled(cfg.sasl.provider);
  std::shared_ptr<tls::ContextSource> tls_source;
  if (cfg.TlsInUse()) {
    tls_source = std::make_shared<tls::ContextSource>(cfg.tls);
    if (!tls_source->Start(&error)) {
      std::fprintf(stderr, "aviary-server: %s: cannot set up TLS: %s\n", config_path, error.c_str());
      return 1;
    }
    opts.net.tls = tls_source;
    opts.net.unified = cfg.port_unification;
    opts.net.secure_enabled = cfg.secure_client_port_set;
    opts.net.secure_port = cfg.secure_client_port;
    opts.net.secure_bind_address = cfg.secure_client_port_address;
    // ZooKeeper: without clientPort there is no plain listener.
    opts.net.plain_enabled = cfg.client_port_set || !cfg.secure_client_port_set;
  }

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<audit::AuditLog> audit_log = server::StartAudit(cfg, opts.core.server_principal, &error);
  if (!audit_log && !error.empty()) {
    std::fprintf(stderr, "aviary-server: %s\n", error.c_str());
    return 1;
  }
  opts.core.audit = audit_log.get();
  server::Server srv(opts);
  if (!srv.Start(&error)) {
    AV_LOG(kError, "cannot start: {}", error);
    if (audit_log)
      audit_log->Log(audit::ServerEvent(audit::kOpServerStart, audit_log->server_user(), audit::Result::kFailure));
    return 1;
  }
  if (audit_log)
    audit_log->Log(audit::ServerEvent(audit::kOpServerStart, audit_log->server_user(), audit::Result::kSuccess));
  std::string plain = opts.net.plain_enabled
                          ? fmt::format("{}:{}{}", opts.net.bind_address.empty() ? "*" : opts.net.bind_address,
                                        srv.port(), opts.net.unified ? " (plaintext and TLS)" : "")
                          : std::string("no plaintext port");
  if (opts.net.secure_enabled) {
    plain += fmt::format(", TLS on {}:{}", opts.net.secure_bind_address.empty() ? "*" : opts.net.secure_bind_address,
                         srv.secure_port());
  }
  AV_LOG(kInfo, "aviary-server {} serving clients on {} ({}; dataDir={}; tickTime={} ms)", server::kAviaryVersion,
         plain, quorum.standalone ? std::string("standalone") : fmt::format("ensemble member {}", quorum.my_id),
         cfg.data_dir, cfg.tick_time_ms);
  int sig = 0;
  for (;;) {
    sigwait(&set, &sig);
    if (sig == SIGHUP) {
      server::OnReloadSignal(config_path, audit_log.get());
    } else if (sig == SIGUSR1) {
      server::OnReopenSignal(audit_log.get());
    } else {
      break;
    }
  }
  AV_LOG(kInfo, "signal {} received, shutting down", sig);
  if (audit_log)
    audit_log->Log(audit::ServerEvent(audit::kOpServerStop, audit_log->server_user(), audit::Result::kInvoked));
  srv.Stop();
  if (audit_log) audit_log->Stop();
  if (tls_source) tls_source->Stop();
  return 0;
}
