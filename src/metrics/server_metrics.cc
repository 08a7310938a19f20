#include "metrics/server_metrics.h"

#include <array>
#include <string_view>

namespace aviary::metrics {
namespace {

constexpr Detail B = Detail::kBasic;
constexpr Detail A = Detail::kAdvanced;

struct ZkMetric {
  std::string_view name;
  Kind kind;
  Detail detail;
};

// ZooKeeper 3.8 ServerMetrics, in its order (names are its wire contract).
constexpr std::array<ZkMetric, 113> kZkMetrics = {{
    {"fsynctime", Kind::kSummary, B},
    {"snapshottime", Kind::kSummary, B},
    {"dbinittime", Kind::kSummary, B},
    {"readlatency", Kind::kSummary, A},
    {"updatelatency", Kind::kSummary, A},
    {"propagation_latency", Kind::kSummary, A},
    {"follower_sync_time", Kind::kSummary, B},
    {"observer_sync_time", Kind::kSummary, B},
    {"election_time", Kind::kSummary, B},
    {"looking_count", Kind::kCounter, B},
    {"diff_count", Kind::kCounter, B},
    {"snap_count", Kind::kCounter, B},
    {"commit_count", Kind::kCounter, B},
    {"connection_request_count", Kind::kCounter, B},
    {"connection_token_deficit", Kind::kSummary, B},
    {"connection_rejected", Kind::kCounter, B},
    {"inflight_snap_count", Kind::kSummary, B},
    {"inflight_diff_count", Kind::kSummary, B},
    {"write_per_namespace", Kind::kSummarySet, B},
    {"read_per_namespace", Kind::kSummarySet, B},
    {"bytes_received_count", Kind::kCounter, B},
    {"unrecoverable_error_count", Kind::kCounter, B},
    {"node_created_watch_count", Kind::kSummary, B},
    {"node_deleted_watch_count", Kind::kSummary, B},
    {"node_changed_watch_count", Kind::kSummary, B},
    {"node_children_watch_count", Kind::kSummary, B},
    {"add_dead_watcher_stall_time", Kind::kCounter, B},
    {"dead_watchers_queued", Kind::kCounter, B},
    {"dead_watchers_cleared", Kind::kCounter, B},
    {"dead_watchers_cleaner_latency", Kind::kSummary, A},
    {"response_packet_cache_hits", Kind::kCounter, B},
    {"response_packet_cache_misses", Kind::kCounter, B},
    {"response_packet_get_children_cache_hits", Kind::kCounter, B},
    {"response_packet_get_children_cache_misses", Kind::kCounter, B},
    {"ensemble_auth_success", Kind::kCounter, B},
    {"ensemble_auth_fail", Kind::kCounter, B},
    {"ensemble_auth_skip", Kind::kCounter, B},
    {"prep_processor_queue_time_ms", Kind::kSummary, A},
    {"prep_processor_queue_size", Kind::kSummary, B},
    {"prep_processor_request_queued", Kind::kCounter, B},
    {"outstanding_changes_queued", Kind::kCounter, B},
    {"outstanding_changes_removed", Kind::kCounter, B},
    {"prep_process_time", Kind::kSummary, B},
    {"proposal_process_time", Kind::kSummary, B},
    {"close_session_prep_time", Kind::kSummary, A},
    {"revalidate_count", Kind::kCounter, B},
    {"connection_drop_count", Kind::kCounter, B},
    {"connection_revalidate_count", Kind::kCounter, B},
    {"sessionless_connections_expired", Kind::kCounter, B},
    {"stale_sessions_expired", Kind::kCounter, B},
    {"unavailable_time", Kind::kSummary, B},
    {"leader_unavailable_time", Kind::kSummary, B},
    {"requests_in_session_queue", Kind::kSummary, B},
    {"pending_session_queue_size", Kind::kSummary, B},
    {"reads_after_write_in_session_queue", Kind::kSummary, B},
    {"reads_issued_from_session_queue", Kind::kSummary, B},
    {"session_queues_drained", Kind::kSummary, B},
    {"time_waiting_empty_pool_in_commit_processor_read_ms", Kind::kSummary, B},
    {"write_batch_time_in_commit_processor", Kind::kSummary, B},
    {"concurrent_request_processing_in_commit_processor", Kind::kSummary, B},
    {"read_commit_proc_req_queued", Kind::kSummary, B},
    {"write_commit_proc_req_queued", Kind::kSummary, B},
    {"commit_commit_proc_req_queued", Kind::kSummary, B},
    {"request_commit_queued", Kind::kCounter, B},
    {"read_commit_proc_issued", Kind::kSummary, B},
    {"write_commit_proc_issued", Kind::kSummary, B},
    {"throttled_ops", Kind::kCounter, B},
    {"read_commitproc_time_ms", Kind::kSummary, A},
    {"write_commitproc_time_ms", Kind::kSummary, A},
    {"local_write_committed_time_ms", Kind::kSummary, A},
    {"server_write_committed_time_ms", Kind::kSummary, A},
    {"commit_process_time", Kind::kSummary, B},
    {"om_proposal_process_time_ms", Kind::kSummary, A},
    {"om_commit_process_time_ms", Kind::kSummary, A},
    {"read_final_proc_time_ms", Kind::kSummary, A},
    {"write_final_proc_time_ms", Kind::kSummary, A},
    {"proposal_latency", Kind::kSummary, A},
    {"proposal_ack_creation_latency", Kind::kSummary, A},
    {"commit_propagation_latency", Kind::kSummary, A},
    {"learner_proposal_received_count", Kind::kCounter, B},
    {"learner_commit_received_count", Kind::kCounter, B},
    {"learner_handler_qp_size", Kind::kSummarySet, B},
    {"learner_handler_qp_time_ms", Kind::kSummarySet, A},
    {"startup_txns_loaded", Kind::kSummary, B},
    {"startup_txns_load_time", Kind::kSummary, B},
    {"startup_snap_load_time", Kind::kSummary, B},
    {"sync_processor_queue_and_flush_time_ms", Kind::kSummary, A},
    {"sync_processor_queue_size", Kind::kSummary, B},
    {"sync_processor_request_queued", Kind::kCounter, B},
    {"sync_processor_queue_time_ms", Kind::kSummary, A},
    {"sync_processor_queue_flush_time_ms", Kind::kSummary, A},
    {"sync_process_time", Kind::kSummary, B},
    {"sync_processor_batch_size", Kind::kSummary, B},
    {"quorum_ack_latency", Kind::kSummary, A},
    {"ack_latency", Kind::kSummarySet, A},
    {"proposal_count", Kind::kCounter, B},
    {"quit_leading_due_to_disloyal_voter", Kind::kCounter, B},
    {"stale_requests", Kind::kCounter, B},
    {"stale_requests_dropped", Kind::kCounter, B},
    {"stale_replies", Kind::kCounter, B},
    {"request_throttle_queue_time_ms", Kind::kSummary, A},
    {"request_throttle_wait_count", Kind::kCounter, B},
    {"large_requests_rejected", Kind::kCounter, B},
    {"digest_mismatches_count", Kind::kCounter, B},
    {"learner_request_processor_queue_size", Kind::kSummary, B},
    {"unsuccessful_handshake", Kind::kCounter, B},
    {"insecure_admin_count", Kind::kCounter, B},
    {"tls_handshake_exceeded", Kind::kCounter, B},
    {"cnxn_closed_without_zk_server_running", Kind::kCounter, B},
    {"skip_learner_request_to_next_processor_count", Kind::kCounter, B},
    {"socket_closing_time", Kind::kSummary, B},
    {"requests_not_forwarded_to_commit_processor", Kind::kCounter, B},
    {"response_bytes", Kind::kCounter, B},
}};

Registry& RegisterAll(Registry& r) {
  for (const ZkMetric& m : kZkMetrics) {
    switch (m.kind) {
      case Kind::kCounter:
        r.AddCounter(m.name);
        break;
      case Kind::kSummary:
        r.AddSummary(m.name, m.detail);
        break;
      case Kind::kSummarySet:
        r.AddSummarySet(m.name, m.detail);
        break;
    }
  }
  r.AddCounter("watch_bytes");
  return r;
}

}  // namespace

ServerMetrics::ServerMetrics(Registry& r)
    : read_latency(RegisterAll(r).AddSummary("readlatency", A)),
      update_latency(r.AddSummary("updatelatency", A)),
      request_latency_by_op(r.AddSummarySet("aviary_request_latency_us", A,
                                            "request latency by operation, received to reply queued (microseconds)")),
      read_per_namespace(r.AddSummarySet("read_per_namespace", B)),
      write_per_namespace(r.AddSummarySet("write_per_namespace", B)),
      bytes_received_count(r.AddCounter("bytes_received_count")),
      response_bytes(r.AddCounter("response_bytes")),
      watch_bytes(r.AddCounter("watch_bytes")),
      connection_request_count(r.AddCounter("connection_request_count")),
      connection_rejected(r.AddCounter("connection_rejected")),
      connection_drop_count(r.AddCounter("connection_drop_count")),
      stale_sessions_expired(r.AddCounter("stale_sessions_expired")),
      revalidate_count(r.AddCounter("revalidate_count")),
      auth_failed(r.AddCounter("aviary_auth_failures", "failed authentications (auth packets and SASL)")),
      node_created_watch_count(r.AddSummary("node_created_watch_count", B)),
      node_deleted_watch_count(r.AddSummary("node_deleted_watch_count", B)),
      node_changed_watch_count(r.AddSummary("node_changed_watch_count", B)),
      node_children_watch_count(r.AddSummary("node_children_watch_count", B)),
      unrecoverable_error_count(r.AddCounter("unrecoverable_error_count")),
      fsync_time(r.AddSummary("fsynctime", B)),
      sync_processor_batch_size(r.AddSummary("sync_processor_batch_size", B)),
      snapshot_time(r.AddSummary("snapshottime", B)),
      db_init_time(r.AddSummary("dbinittime", B)),
      startup_snap_load_time(r.AddSummary("startup_snap_load_time", B)),
      startup_txns_loaded(r.AddSummary("startup_txns_loaded", B)),
      startup_txns_load_time(r.AddSummary("startup_txns_load_time", B)),
      election_time(r.AddSummary("election_time", B)),
      looking_count(r.AddCounter("looking_count")),
      proposal_count(r.AddCounter("proposal_count")),
      commit_count(r.AddCounter("commit_count")),
      proposal_latency(r.AddSummary("proposal_latency", A)),
      quorum_ack_latency(r.AddSummary("quorum_ack_latency", A)),
      ack_latency(r.AddSummarySet("ack_latency", A)),
      learner_handler_qp_size(r.AddSummarySet("learner_handler_qp_size", B)),
      learner_handler_qp_time_ms(r.AddSummarySet("learner_handler_qp_time_ms", A)),
      commit_propagation_latency(r.AddSummary("commit_propagation_latency", A)),
      propagation_latency(r.AddSummary("propagation_latency", A)),
      learner_proposal_received_count(r.AddCounter("learner_proposal_received_count")),
      learner_commit_received_count(r.AddCounter("learner_commit_received_count")),
      diff_count(r.AddCounter("diff_count")),
      snap_count(r.AddCounter("snap_count")),
      follower_sync_time(r.AddSummary("follower_sync_time", B)),
      observer_sync_time(r.AddSummary("observer_sync_time", B)),
      unavailable_time(r.AddSummary("unavailable_time", B)),
      leader_unavailable_time(r.AddSummary("leader_unavailable_time", B)),
      digest_mismatches_count(r.AddCounter("digest_mismatches_count")),
      insecure_admin_count(r.AddCounter("insecure_admin_count")) {
  // Fed by the core thread alone (server/core_output.cc, core_metrics.cc):
  // Add without a locked read-modify-write (metric.h).
  read_latency.SetOneWriter();
  update_latency.SetOneWriter();
  propagation_latency.SetOneWriter();
}

Registry& Default() {
  static Registry* registry = new Registry();  // never destroyed: threads may still count at exit
  return *registry;
}

ServerMetrics& Server() {
  static ServerMetrics* m = new ServerMetrics(Default());
  return *m;
}

bool IsJvmOnlyMetric(std::string_view name) {
  return name == "jvm_pause_time_ms" || name == "netty_queued_buffer_capacity";
}

}  // namespace aviary::metrics
