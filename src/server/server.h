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

#include "net/connection_server.h"
#include "server/committer.h"
#include "server/core.h"
#include "server/durable_committer.h"
#include "server/metrics_endpoint.h"
#include "server/quorum_peer.h"
#include "server/snapshotter.h"

namespace aviary::server {

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
  int snap_retain_count = 3;
  int64_t snapshot_timeout_ms = 600000;  // aviary.snapshotTimeoutMs (see Snapshotter)
  bool repair = false;                   // --repair: skip corrupt log/snapshot parts (loudly)
  // Set: a member of an ensemble (zoo.cfg server.N lines + myid); the log is
  // then written by the QuorumPeer (ZAB) instead of the DurableCommitter.
  std::optional<config::QuorumConfig> quorum;
};

class Server : public net::FrameSink, public Outbox {
 public:
  explicit Server(ServerOptions options);
  ~Server() override;

  bool Start(std::string* error);
  void Stop();
  uint16_t port() const { return net_->port(); }
  uint16_t secure_port() const { return net_->secure_port(); }
  // Null when standalone.
  const QuorumPeer* quorum_peer() const { return quorum_peer_; }
  // The /metrics port, -1 when not serving it.
  int metrics_port() const { return metrics_ ? metrics_->port() : -1; }

  // net::FrameSink (I/O threads)
  void OnFrames(std::vector<net::Frame>& frames) override;
  // Outbox (core thread)
  void Deliver(std::vector<net::ConnectionServer::Out>& batch) override;
  void CloseNow(net::ConnId conn) override;

 private:
  bool Recover(std::string* error);

  ServerOptions opts_;
  std::unique_ptr<Committer> committer_;
  DurableCommitter* durable_ = nullptr;  // committer_ when storage is on (standalone)
  QuorumPeer* quorum_peer_ = nullptr;    // committer_ in an ensemble
  std::unique_ptr<Snapshotter> snapshotter_;
  std::unique_ptr<Core> core_;
  std::unique_ptr<net::ConnectionServer> net_;
  std::unique_ptr<MetricsEndpoint> metrics_;  // /metrics (metricsProvider.*), server/metrics_endpoint.h
  std::thread core_thread_;
  bool started_ = false;
};

}  // namespace aviary::server
