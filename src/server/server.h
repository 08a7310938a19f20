// A standalone Aviary server: the network front end (net::ConnectionServer,
// I/O threads that frame and decode requests) wired to the Core thread.
//
// Threads: Start/Stop from one controlling thread. Decoding happens on the
// I/O threads inside FrameSink::OnFrames; the Core runs on its own thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "adminserver/http_server.h"
#include "net/connection_server.h"
#include "server/committer.h"
#include "server/core.h"
#include "server/durable_committer.h"
#include "server/metrics_endpoint.h"
#include "server/quorum_peer.h"
#include "server/snapshotter.h"
#include "server/thread_placement.h"

namespace aviary::server {

// The AdminServer (src/adminserver; zoo.cfg's admin.* keys). Off unless
// `enabled`: aviary-server turns it on from admin.enableServer.
struct AdminServerOptions {
  bool enabled = false;
  adminserver::HttpOptions http;
  std::string initial_config;  // the configuration file's text (initial_configuration)
  bool snapshot_enabled = true;
  bool restore_enabled = true;
  // ZooKeeper 3.9's RateLimiter: one restore per interval (ms); snapshot's
  // limiter reads the same number as microseconds (as ZooKeeper does).
  int64_t rate_limit_interval_ms = 300000;
  int64_t command_timeout_ms = 30000;  // a command the core does not answer in time gets a 500
};

// HTTPS on the AdminServer (admin.forceHttps / admin.portUnification /
// admin.needClientAuth) as ZooKeeper's JettyAdminServer: the context from
// the ssl.quorum.* key and trust stores (QuorumX509Util), reloaded with
// sslQuorumReloadCertFiles. Fills http->tls (null when HTTPS is off); false
// with *error naming the ssl.quorum.* key when a store cannot be used.
bool SetUpAdminHttps(const config::ServerConfig& cfg, adminserver::HttpOptions* http, std::string* error);

struct ServerOptions {
  CoreOptions core;
  net::ServerOptions net;
  // globalOutstandingLimit: above this many unanswered requests the network
  // stops reading from clients until the core catches up (0 = no limit).
  int64_t global_outstanding_limit = 1000;

  // Storage. Empty data_dir = in memory only (unit tests).
  std::string data_dir;
  std::string data_log_dir;  // empty = data_dir
  bool force_sync = true;
  int64_t prealloc_bytes = 64 << 20;
  // Standalone: > 0 makes the log grow by zeros written in steps of this
  // many bytes ahead of the data instead of fallocate()d prealloc_bytes
  // steps (storage::WalOptions::zero_fill_bytes); 0 = fallocate (default:
  // not yet shown to lower the write tail here, docs/perf/pipeline.md).
  // The environment variable AVIARY_WAL_ZERO_FILL_BYTES overrides it.
  int64_t wal_zero_fill_bytes = 0;
  // Standalone log: a closed segment's preallocated tail is cut by a worker
  // thread ~2 s after the roll, not by the roll on the storage thread
  // (storage::WalOptions::background_roll, storage/segment_worker.h). The
  // environment variable AVIARY_WAL_BACKGROUND_ROLL=0 turns it off. Ensemble
  // members cut it in the roll as before.
  bool wal_background_roll = true;
  // Standalone log: a worker thread keeps this many bytes past the log's
  // end written with zeros, so that the log's durable writes do not convert
  // unwritten (fallocate()d) extents (storage::WalOptions::zero_ahead_bytes,
  // docs/perf/storage.md, session 12); 0 = off. The environment variable
  // AVIARY_WAL_ZERO_AHEAD_KIB overrides it (0: off).
  int64_t wal_zero_ahead_bytes = 8 << 20;
  // Standalone log: how many groups may be being made durable at once (1 or
  // 2: server/durable_committer.h; 2 measured +19-50 % sets/s at 16 x 16
  // on the shared VM, docs/perf/storage.md). The environment variable
  // AVIARY_WAL_GROUPS_IN_FLIGHT overrides it (1: one storage thread, as
  // before).
  int wal_groups_in_flight = 2;
  // With two: the txns that must wait before a group starts while another
  // is in flight (DurableCommitter::set_min_overlapped_group; 32: at
  // saturation groups are ~120 txns and overlap, at 10k sets/s ~10 and
  // mostly do not, so the fsyncs per second stay as with one in flight).
  // AVIARY_WAL_MIN_OVERLAPPED_GROUP overrides it.
  int64_t wal_min_overlapped_group = 32;
  // With two: > 0 lets a small group linger up to this many microseconds
  // after the previous durable write when txns kept arriving during it and
  // other sessions are writing too (DurableCommitter::set_group_linger_us,
  // GroupLinger): fewer, larger durable writes at moderate rates. zoo.cfg
  // aviary.walGroupLingerUs; AVIARY_WAL_GROUP_LINGER_US overrides it.
  int64_t wal_group_linger_us = 1000;
  // With two: > 0 lets a small group start beside a write in flight that
  // has run this many microseconds (DurableCommitter::set_overlap_after_us).
  // AVIARY_WAL_OVERLAP_AFTER_US overrides it.
  int64_t wal_overlap_after_us = 0;
  // Standalone log: the storage thread whose group became durable applies
  // it and replies itself when the core thread is idle (Core::
  // ApplyCommitsInline) instead of waking it. AVIARY_APPLY_COMMITS_INLINE
  // (0 / 1) overrides it.
  bool apply_commits_inline = false;
  // Standalone with a log: a setData's reply goes to the client from the
  // thread that made it durable, before the core applies it
  // (DurableCommitter::set_early_reply_sink; AVIARY_EARLY_REPLIES=0: off).
  bool early_replies = true;
  // aviary.threadPlacement: "off" (the default); "auto" confines the core
  // and I/O threads to the CPUs that do not take the log disk's interrupts
  // while those have room (server/thread_placement.h); "confine" (always,
  // experiments). The environment variable AVIARY_THREAD_PLACEMENT overrides it.
  placement::Mode thread_placement = placement::Mode::kOff;
  int snap_retain_count = 3;
  int64_t snapshot_timeout_ms = 600000;  // aviary.snapshotTimeoutMs (see Snapshotter)
  SnapshotIo snapshot_io;                // aviary.snapshotWritebackKiB, ...BoundedWriteback, ...IdleIo, ...Nice
  bool repair = false;                   // --repair: skip corrupt log/snapshot parts (loudly)
  // Set: a member of an ensemble (zoo.cfg server.N lines + myid); the log is
  // then written by the QuorumPeer (ZAB) instead of the DurableCommitter.
  std::optional<config::QuorumConfig> quorum;
  // Quorum SASL between members (peer/quorum_auth.h; sasl_setup.h).
  peer::QuorumSaslSettings quorum_sasl;
  AdminServerOptions admin;
};

class Server : public net::FrameSink, public Outbox, public adminserver::AdminBackend {
 public:
  explicit Server(ServerOptions options);
  ~Server() override;

  bool Start(std::string* error);
  void Stop();
  uint16_t port() const { return net_->port(); }
  uint16_t secure_port() const { return net_->secure_port(); }
  // The AdminServer's bound port; 0 when it is off or could not bind.
  uint16_t admin_port() const { return admin_http_ ? admin_http_->port() : 0; }
  // Null when standalone.
  const QuorumPeer* quorum_peer() const { return quorum_peer_; }
  // The /metrics port, -1 when not serving it.
  int metrics_port() const { return metrics_ ? metrics_->port() : -1; }

  // net::FrameSink (I/O threads)
  void OnFrames(std::vector<net::Frame>& frames) override;
  // Outbox (core thread)
  void Deliver(std::vector<net::ConnectionServer::Out>& batch) override;
  void DeliverWrites(std::vector<net::ConnectionServer::Out>& batch) override;
  void CloseNow(net::ConnId conn) override;
  // adminserver::AdminBackend (HTTP threads; server_admin_http.cc)
  adminserver::CommandResult RunCommand(const adminserver::AdminRequest& req) override;

 private:
  bool Recover(std::string* error);
  // server_admin_http.cc
  void StartAdmin();
  adminserver::CommandResult CallCore(std::function<adminserver::CommandResult(Core&, int64_t)> fn);
  adminserver::CommandResult Restore(const adminserver::AdminRequest& req);
  // 3.9's feature flags and rate limiters, checked on the core thread after
  // authentication: 0 to go on, else the HTTP status to answer.
  int Gate(adminserver::CommandId id, int64_t now_ms);

  ServerOptions opts_;
  std::unique_ptr<Committer> committer_;
  DurableCommitter* durable_ = nullptr;  // committer_ when storage is on (standalone)
  QuorumPeer* quorum_peer_ = nullptr;    // committer_ in an ensemble
  std::unique_ptr<Snapshotter> snapshotter_;
  std::unique_ptr<Core> core_;
  std::unique_ptr<net::ConnectionServer> net_;
  std::unique_ptr<placement::ThreadPlacement> placement_;  // the core and I/O threads register with it
  std::unique_ptr<MetricsEndpoint> metrics_;               // /metrics (metricsProvider.*), server/metrics_endpoint.h
  std::thread core_thread_;
  bool started_ = false;
  std::unique_ptr<adminserver::AdminHttpServer> admin_http_;
  int64_t last_snapshot_cmd_ms_ = -1;  // core thread (Gate)
  int64_t last_restore_cmd_ms_ = -1;
};

}  // namespace aviary::server
