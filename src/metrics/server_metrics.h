// ServerMetrics: the process-wide metrics of an Aviary server under
// ZooKeeper 3.8's names (org.apache.zookeeper.server.ServerMetrics), plus
// Aviary's own under "aviary_".
//
// Owns: nothing; every metric lives in the process registry (Default()).
// Every metric ZooKeeper 3.8's ServerMetrics registers is registered here,
// in its order, so mntr and /metrics list the same names; the members
// below are the ones Aviary feeds (the others stay 0: a stage Aviary does
// not have, e.g. ZooKeeper's response cache or commit-processor pools; see
// docs/monitoring/README.md). Left out entirely: jvm_pause_time_ms and
// netty_queued_buffer_capacity (JVM / Netty only).
// Threads: Server() is safe from any thread (constructed once); units as
// ZooKeeper's: times in ms unless the name says otherwise, sizes in bytes.
// Each member's comment names the thread that feeds it.
#pragma once

#include "metrics/metric.h"
#include "metrics/registry.h"

namespace aviary::metrics {

struct ServerMetrics {
  explicit ServerMetrics(Registry& r);

  // Request path (core thread). read_latency, update_latency and
  // propagation_latency are Writers::kOne (only the core adds to them).
  Summary& read_latency;              // readlatency: non-txn requests, received -> reply queued
  Summary& update_latency;            // updatelatency: txn requests
  SummarySet& request_latency_by_op;  // aviary_request_latency_us{key=<op>}: microseconds
  SummarySet& read_per_namespace;     // path + data + 68 bytes per read, by top-level node
  SummarySet& write_per_namespace;    // path + data bytes per write
  Counter& bytes_received_count;      // request bytes from clients
  Counter& response_bytes;            // reply bytes to clients
  Counter& watch_bytes;               // watch event bytes to clients
  Counter& connection_request_count;  // ConnectRequests seen
  Counter& connection_rejected;       // accepts refused (maxClientCnxns, maxCnxns): I/O acceptor thread
  Counter& connection_drop_count;     // connections closed by the server (limits, errors)
  Counter& stale_sessions_expired;    // sessions expired
  Counter& revalidate_count;          // leader: REVALIDATEs answered for learners
  Counter& auth_failed;               // aviary_auth_failures: failed auth / SASL (mntr's zk_auth_failed_count)
  Summary& node_created_watch_count;  // watchers fired per event, by event type
  Summary& node_deleted_watch_count;
  Summary& node_changed_watch_count;
  Summary& node_children_watch_count;
  Counter& unrecoverable_error_count;  // the log failed: writes refused from then on

  // Durability (storage / quorum-log thread; snapshotter thread; start).
  Summary& fsync_time;                 // fsynctime: one fdatasync of the txn log
  Summary& sync_processor_batch_size;  // txns per group commit
  Summary& snapshot_time;              // snapshottime: one snapshot, start -> file in place
  Summary& db_init_time;               // dbinittime: recovery at start
  Summary& startup_snap_load_time;
  Summary& startup_txns_loaded;
  Summary& startup_txns_load_time;

  // Ensemble (consensus thread).
  Summary& election_time;       // LOOKING -> following / leading, ms
  Counter& looking_count;       // times the peer went LOOKING
  Counter& proposal_count;      // leader: proposals sent
  Counter& commit_count;        // leader: commits
  Summary& proposal_latency;    // learner: the leader's txn time -> proposal logged here
  Summary& quorum_ack_latency;  // leader: proposal logged -> quorum of acks (committed)
  SummarySet& ack_latency;      // leader: proposal logged -> a learner's ACK, key = its sid (1 zxid in 1000)
  // Leader, quorum I/O thread, key = learner sid: each time the packets queued
  // for a learner are taken for writing, how many there were / how long the
  // oldest waited (ms).
  SummarySet& learner_handler_qp_size;
  SummarySet& learner_handler_qp_time_ms;
  Summary& commit_propagation_latency;  // learner: the leader's txn time -> its commit here
  Summary& propagation_latency;         // txn created -> applied on this member
  Counter& learner_proposal_received_count;
  Counter& learner_commit_received_count;
  Counter& diff_count;          // leader: learners synced by DIFF (TRUNC counted too)
  Counter& snap_count;          // leader: learners synced by SNAP
  Summary& follower_sync_time;  // learner: connect -> UPTODATE
  Summary& observer_sync_time;
  Summary& unavailable_time;         // not serving -> serving again
  Summary& leader_unavailable_time;  // the same, on the leader
  Counter& digest_mismatches_count;
  Counter& insecure_admin_count;  // plaintext connections to a unified AdminServer port (its gate thread)
};

// The process registry and the server's metrics in it.
Registry& Default();
ServerMetrics& Server();

// ZooKeeper 3.8 metric names Aviary leaves out of mntr and /metrics (they
// only exist in a JVM or with Netty).
bool IsJvmOnlyMetric(std::string_view name);

}  // namespace aviary::metrics
