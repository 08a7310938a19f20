// ServerSnapshot: a point-in-time copy of everything the four-letter words
// (and mntr-style metrics) report. The server fills one in on its own thread
// and hands it to RenderFourLetter; the admin part never reaches into live
// server state.
//
// Owns: nothing but plain values. Units: latencies in ms, sizes in bytes,
// times as ms since the Unix epoch. Containers are bounded by the producer
// (at most one ConnectionInfo per live connection, capped by maxClientCnxns).
// Thread use: plain data, copy freely.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "metrics/sample.h"

namespace aviary::admin {

// One client connection, as printed by stat/cons (ServerCnxn.dumpConnectionInfo).
struct ConnectionInfo {
  std::string remote_ip;  // "127.0.0.1" or "::1" (IPv6 is printed in brackets)
  uint16_t remote_port = 0;
  int interest_ops = 1;        // 1 = reading (Java OP_READ); 0 while a 4lw is being answered
  int64_t queued = 0;          // outstanding requests
  int64_t received = 0;        // packets received
  int64_t sent = 0;            // packets sent
  int64_t session_id = 0;      // 0 before the session is established (then only the brief form is printed)
  std::string last_op = "NA";  // last operation, ZooKeeper's short names (GETD, SETD, PING, ...)
  int64_t established_ms = 0;  // connection time, ms since epoch
  int session_timeout_ms = 0;
  int64_t last_cxid = -1;  // printed only when >= 0
  int64_t last_zxid = -1;
  int64_t last_response_ms = 0;  // ms since epoch
  int64_t last_latency_ms = 0;
  int64_t min_latency_ms = 0;
  int64_t avg_latency_ms = 0;  // integer, as ZooKeeper's per-connection average
  int64_t max_latency_ms = 0;
};

struct ServerSnapshot {
  std::string full_version;  // e.g. FullVersion(): "3.8.0-aviary-0.1.0, built on 2026-11-22 01:05 UTC"
  std::string server_state = "standalone";
  bool serving = true;  // false: words print ZooKeeper's "not currently serving requests" line
  bool read_only = false;
  int64_t zxid = 0;  // last processed zxid
  // An ensemble leader's proposal sizes in bytes since it leads (ZooKeeper's
  // Leader.proposalStats, -1 before the first): srvr/stat print
  // "Proposal sizes last/min/max: l/m/M"; mntr gets them as extra_metrics.
  struct Sizes {
    int64_t last = -1;
    int64_t min = -1;
    int64_t max = -1;
  };
  std::optional<Sizes> proposal_sizes;

  int64_t node_count = 0;
  int64_t watch_count = 0;  // all watches (mntr zk_watch_count)
  int64_t ephemerals_count = 0;
  int64_t approximate_data_size = 0;  // sum of path lengths + data lengths
  int64_t global_sessions = 0;
  int64_t local_sessions = 0;

  // wchs: ZooKeeper 3.8 summarises the data-watch table only.
  int64_t wchs_connections = 0;  // connections holding at least one data watch
  int64_t wchs_paths = 0;        // distinct watched paths
  int64_t wchs_total = 0;        // total data watches

  int64_t latency_min_ms = 0;
  double latency_avg_ms = 0;  // rounded to 4 decimals on output
  int64_t latency_max_ms = 0;
  int64_t packets_received = 0;
  int64_t packets_sent = 0;
  int64_t outstanding_requests = 0;
  int64_t uptime_ms = 0;
  int64_t auth_failed_count = 0;
  int64_t last_client_response_size = -1;
  int64_t min_client_response_size = -1;
  int64_t max_client_response_size = -1;

  int64_t alive_connections = 0;
  std::vector<ConnectionInfo> connections;

  int64_t open_fd_count = 0;
  int64_t max_fd_count = 0;

  // conf / dirs
  int client_port = 2181;
  int secure_client_port = -1;  // -1: not configured (as ZooKeeper prints it)
  // Absolute dataDir / dataLogDir as configured. conf prints them with
  // "/version-2" appended, as ZooKeeper does (its FileTxnSnapLog subdir).
  std::string data_dir;
  std::string data_log_dir;
  int64_t data_dir_size = 0;  // bytes of snapshot files
  int64_t log_dir_size = 0;   // bytes of transaction log files
  int tick_time_ms = 3000;
  int max_client_cnxns = 60;
  int min_session_timeout_ms = 6000;
  int max_session_timeout_ms = 60000;
  int client_port_listen_backlog = -1;
  int64_t server_id = 0;

  // envi: printed in order, "key=value" per line. Use BuildEnvironment().
  std::vector<std::pair<std::string, std::string>> environment;

  // Extra mntr lines appended after the standard ones (names without "zk_").
  std::vector<std::pair<std::string, std::string>> extra_metrics;

  // mntr (admin/mntr.h): an ensemble member's ZooKeeper "peer_state"
  // ("following - broadcast", "looking", ...; empty standalone), an
  // observer's learner master id (-1: not an observer), and the metrics
  // registry's counters and summaries (metrics::Registry::MntrSamples).
  std::string peer_state;
  int64_t observer_master_id = -1;
  std::vector<metrics::Sample> registry_metrics;
};

}  // namespace aviary::admin
