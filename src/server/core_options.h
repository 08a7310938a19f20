// Settings of the server core, derived from the zoo.cfg ServerConfig.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "base/clock.h"
#include "config/zoo_config.h"
#include "sasl/sasl_server.h"

namespace aviary::server {

// Identities one connection may hold (its ip identity included; a super
// digest adds two), and the size of one (scheme + id). An addauth past
// either is answered AUTHFAILED and the connection closed, as a failed
// addauth in ZooKeeper.
inline constexpr size_t kMaxAuthIds = 16;
inline constexpr size_t kMaxAuthIdBytes = 1024;
// A reply may exceed jute.maxbuffer by this much: room for the reply header,
// Stat and multi headers around the largest data a request can store.
inline constexpr size_t kReplySlackBytes = 1024;

struct CoreOptions {
  // Wall and steady time (not owned; must outlive the Core). Null: the
  // system clocks. Tests inject a base::ManualClock.
  const base::Clock* clock = nullptr;
  int64_t server_id = 0;
  int32_t tick_ms = 3000;
  int32_t min_session_timeout_ms = 6000;
  int32_t max_session_timeout_ms = 60000;
  int32_t max_buffer = 0xfffff;
  // Bounds per connection (see Core::Credit, Core::ChargeOutput): bytes of
  // requests held behind the handshake or waiting in the session queue, and
  // bytes of replies produced for it in one core pass (the network's output
  // cap). A connection past either is closed.
  size_t max_queued_bytes_per_conn = 64u << 20;
  size_t max_output_bytes = 64u << 20;
  bool extended_types_enabled = false;
  bool enforce_quota = false;  // zookeeper.enforceQuota (txn/quota_check.h)
  std::string super_digest;
  int64_t container_check_interval_ms = 60000;
  size_t max_sessions = 1000000;
  // Watch bounds per connection (aviary.maxWatchesPerSession /
  // aviary.maxWatchBytesPerSession); 0 = unlimited. See watch::WatchLimits.
  size_t max_watches_per_session = 0;
  size_t max_watch_bytes_per_session = 0;
  // snapCount: a fuzzy snapshot starts after snap_count/2 + rand(snap_count/2)
  // txns (as ZooKeeper, so servers do not snapshot together); 0 = never.
  int64_t snap_count = 0;
  size_t snapshot_nodes_per_step = 20000;  // tree slice serialised per core pass (fuzzy path), at most
  int64_t snapshot_slice_us = 500;         // and at most this long (0 = no time bound); aviary.snapshotSliceMicros
  bool fork_snapshots = false;             // true: write snapshots from a forked child (see Snapshotter)
  // Fuzzy path: the core walks no further while the snapshot thread has more
  // than this many bytes of blocks queued (raw records, not yet compressed).
  // Each queued block is a heap buffer the core thread fills, so this is also
  // the heap the walk keeps touching: 4 MiB (16 blocks) are reused block
  // after block, where 64 MiB cost the core thread ~2,200 page faults per 1M
  // snapshot (docs/perf/storage.md, session 11). AVIARY_SNAPSHOT_QUEUE_KIB
  // overrides it.
  size_t snapshot_max_queued_bytes = 4u << 20;
  // Run to completion (Core::Submit): a standalone server's I/O thread runs
  // the core pass for the frames it read itself when the core thread is
  // asleep with nothing to do, instead of waking it (one thread hop and
  // wake-up less per request at low load). false: always hand over.
  bool run_to_completion = true;
  // Reply slices (docs/perf/pipeline.md, session 14 "cycle"): while a pass
  // applies committed txns, the replies queued so far go to the network
  // every time at least this many reply buffers (one per run of a
  // connection's replies) are queued and the next txn is another
  // session's, instead of all at the end of the pass: the first clients of
  // a large group do not wait for the rest of it to be applied and sent.
  // 1 (the default): at every change of session once anything is queued.
  // 0: at the end of the pass only. The server sets 0 unless
  // AVIARY_CORE_REPLY_SLICE says otherwise (opt-in until measured quietly).
  int32_t reply_slice = 1;
  // ApplyCommitted's stat step: the stat pool entries and the digest-cache
  // slots of the txn two ahead are prefetched (docs/perf/pipeline.md,
  // session 14 setcpu4). The server sets it from AVIARY_PREFETCH (0: off,
  // for an A/B in one binary).
  bool prefetch_stats = true;
  // Before the core thread sleeps with writes in flight (their commits are
  // due within a durable write), it polls for new input for up to this
  // many microseconds instead of sleeping at once: the commit's or the next
  // request's hand-off then needs no wake-up (a context switch each on the
  // measured VM). 0: sleep at once. AVIARY_CORE_SPIN_US.
  int64_t spin_us = 0;
  int64_t purge_interval_ms = 0;  // autopurge.purgeInterval; 0 = off
  uint64_t password_secret = 0;
  // Client authentication (issue 8, core_sasl.cc). `sasl` null: SASL is not
  // configured and opcode 102 fails. enforce_auth: every request but auth
  // and sasl needs an id of one of enforce_auth_schemes (AuthenticationHelper).
  std::shared_ptr<sasl::Authenticator> sasl;
  std::vector<std::string> sasl_super_users;  // superUser: these sasl ids are super
  bool allow_sasl_failed_clients = false;     // allowSaslFailedClients
  bool enforce_auth = false;
  std::vector<std::string> enforce_auth_schemes;
  // The whole configuration, for the four-letter words (conf, envi, ...).
  config::ServerConfig config;
  // The audit log (audit.enable), not owned; null when auditing is off.
  audit::AuditLog* audit = nullptr;
  // The server's SASL Kerberos principal (empty without one): the audit
  // log's user for system operations, as ZooKeeper's login user.
  std::string server_principal;
};

}  // namespace aviary::server
