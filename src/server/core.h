// The server core: the one thread that owns the replicated state
// (txn::StateMachine: tree + session table), the session tracker, the
// watches, the connections and their per-session FIFOs, and drives every
// request through the pipeline
//   sequence (Sequencer: prepare on a leader, forward on a follower)
//   -> commit (Committer) -> apply (StateMachine) -> fire watches -> reply.
// Everything but the Sequencer is the same in every role; committed txns
// are matched to waiting writes by (session id, cxid). Time comes only from
// the injected base::Clock (CoreOptions::clock).
//
// Threads: Post() may be called from any thread (the I/O threads); every
// other method runs on the core thread only. Nothing here touches a socket:
// replies leave through the Outbox, so tests can drive a Core directly.
//
// Invariants:
//  - per session, replies leave in request order: a read (or ping, sync,
//    setWatches) waits while an earlier write of the same session is
//    uncommitted;
//  - watch events produced by applying zxid Z are queued before any reply
//    that reflects Z, on every connection;
//  - zxids are assigned once (by the leader's sequencer), in proposal order,
//    and applied in that order.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "admin/four_letter.h"
#include "admin/server_snapshot.h"
#include "adminserver/command_result.h"
#include "base/clock.h"
#include "metrics/metric.h"
#include "net/connection_server.h"
#include "proto/records.h"
#include "server/admin_probe.h"
#include "server/committer.h"
#include "server/core_options.h"
#include "server/digest_log.h"
#include "server/follower_sequencer.h"
#include "server/leader_sequencer.h"
#include "server/path_pool.h"
#include "server/sequencer.h"
#include "server/snapshotter.h"
#include "session/session_tracker.h"
#include "storage/snapshot.h"
#include "tree/data_tree.h"
#include "txn/apply.h"
#include "txn/prepare.h"
#include "txn/state_machine.h"
#include "watch/watch_manager.h"
#include "zkformat/digest_check.h"

namespace aviary::server {

class Core;

// What this server does in its ensemble (core_role.cc). kStandalone and
// kLeader run a LeaderSequencer, kFollower a FollowerSequencer; kNotServing
// (LOOKING or syncing) refuses client sessions as ZooKeeper does; kReadOnly
// (LOOKING past the read-only delay, readonlymode.enabled) serves read-only
// clients as ZooKeeper's ReadOnlyZooKeeperServer (core_read_only.cc). The
// last two run an IdleSequencer.
enum class ServingRole : uint8_t { kStandalone, kNotServing, kLeader, kFollower, kReadOnly };

// One input to the core, decoded on an I/O thread.
struct CoreEvent {
  // kForwarded: a write another server forwarded to this one (leader).
  // kRole: the ensemble role changed (role_change); kTouches: sessions a
  // learner saw activity on (touched, leader).
  enum class Kind : uint8_t {
    kOpened,
    kConnect,
    kRequest,
    kFourLetter,
    kClosed,
    kProtocolError,
    kForwarded,
    kRole,
    kTouches,
    kCall,
    kDrained  // the network wrote out a parked connection's replies (Core::Park)
  };
  Kind kind = Kind::kClosed;
  net::ConnId conn = 0;
  std::string text;          // kOpened: peer "ip:port"; kFourLetter: the word
  std::string x509_subject;  // kOpened over TLS: the verified client certificate's subject DN (RFC 2253)
  proto::ConnectRequest connect;
  proto::Request request;
  proto::Err decode_err = proto::Err::kOk;            // kRequest: kMarshallingError if the body was bad
  std::string raw_body;                               // kRequest: the body bytes, only when it did not decode
  std::shared_ptr<const ForwardedRequest> forwarded;  // kForwarded
  ServingRole role = ServingRole::kStandalone;        // kRole
  int64_t role_epoch = 0;                             // kRole, leader: the new epoch
  std::vector<int64_t> touched;                       // kTouches
  std::function<void(Core&, int64_t)> call;           // kCall: run on the core thread (now_ms)
  size_t bytes = 0;                                   // kRequest: size of the frame it came in
  int64_t received_us = 0;                            // steady clock, for latency stats
};

// Where replies go. The production Outbox hands batches to the network.
class Outbox {
 public:
  virtual ~Outbox() = default;
  virtual void Deliver(std::vector<net::ConnectionServer::Out>& batch) = 0;
  // A batch that carries replies to committed writes (the network may hand
  // a large one to its I/O threads: net::ServerOptions::direct_send_max).
  virtual void DeliverWrites(std::vector<net::ConnectionServer::Out>& batch) { Deliver(batch); }
  virtual void CloseNow(net::ConnId conn) = 0;
};

class Core {
 public:
  Core(CoreOptions options, Committer* committer, Outbox* outbox);
  ~Core();

  // Any thread.
  void Post(std::vector<CoreEvent>& events);
  // The network's I/O threads: as Post, but when the core thread is asleep
  // with nothing to do (inbox empty, no commits ready, no snapshot being
  // built), the server is standalone and `events` hold one request or up
  // to kInlineMaxReads reads, the calling thread runs the core
  // pass for `events` itself (run to completion: read, process, reply, and
  // for a lone write its fsync, without a hop to the core thread). The core
  // token (run_mu_) makes it exclusive with the core thread; events of one
  // connection stay in order because an inline pass runs only while nothing
  // waits in the inbox. CoreOptions::run_to_completion=false: always Post.
  void Submit(std::vector<CoreEvent>& events);
  //
  // When another thread's inline pass holds the token, reads (no write,
  // no new session) that would have run inline join it instead of waking
  // the core thread: the holder runs them after its own pass, before it
  // gives the token back (Join / RunJoined), unless something already
  // waits in the inbox (then they go behind it, to the core thread).
  // Passes run by Submit on the calling thread so far (tests, metrics).
  int64_t inline_passes() const { return inline_passes_.load(std::memory_order_relaxed); }
  // Submits that joined another thread's inline pass so far (tests).
  int64_t joined_submits() const { return joined_submits_.load(std::memory_order_relaxed); }
  void RequestStop();
  // The committer has committed txns ready (called from its thread).
  void WakeForCommits();
  // The committer's thread, in place of WakeForCommits: when the core
  // thread is asleep with nothing to do (inbox empty, no snapshot being
  // built) and the server is standalone with run to completion, applies
  // the ready commits and replies itself (a pass with no events, then what
  // joined it), as an inline pass does for a request: no wake-up of the
  // core thread. False: nothing done (the caller wakes the core thread).
  bool ApplyCommitsInline();

  // Before Run(): the recovered state. The state machine is filled in place
  // by storage::Recover through mutable_state() (or just its tree through
  // mutable_tree()); LoadRecovered then sets its sessions and last zxid,
  // and the sessions restart their timeout from `now_ms`, as in ZooKeeper.
  txn::StateMachine& mutable_state() { return sm_; }
  tree::DataTree& mutable_tree() { return tree_; }
  void LoadRecovered(int64_t last_zxid, const std::vector<storage::SessionRecord>& sessions, int64_t now_ms);
  // The role's sequencer (core thread, while no write or session creation
  // is pending: before Run, or once the old role's were failed). A Core
  // starts with a LeaderSequencer (standalone); MakeLeaderSequencer builds
  // another over this core's tree, sessions and committer, continuing after
  // the last applied zxid (LeaderSequencer::SetEpoch starts a new epoch).
  void SetSequencer(std::unique_ptr<Sequencer> s);
  std::unique_ptr<LeaderSequencer> MakeLeaderSequencer();
  Sequencer& sequencer() { return *sequencer_; }
  // Ensemble wiring (before Run): where a follower forwards its writes, and
  // where its session touches go (core thread, at every tick).
  using TouchSink = std::function<void(std::vector<std::pair<int64_t, int32_t>>)>;
  // An ensemble member makes and checks session passwords as ZooKeeper does
  // (session::PasswordScheme::kZooKeeper), so sessions can move between
  // members of either kind.
  void SetEnsembleHooks(Forwarder* forwarder, TouchSink touches) {
    forwarder_ = forwarder;
    touch_sink_ = std::move(touches);
    sessions_.set_password_scheme(session::PasswordScheme::kZooKeeper);
  }
  // The ensemble's part of the four-letter words (server_state, serving,
  // zk_learners ..., a leader's epoch zxid as a floor for `zxid`: FillStats
  // keeps the larger), called on the core thread for each word, first.
  void SetStatusHook(std::function<void(admin::ServerSnapshot&)> hook) { status_hook_ = std::move(hook); }
  // core_admin_*.cc (before Run): conf's quorum part on an ensemble member;
  // what else `srst` resets (a leader's proposal sizes, a metrics
  // registry), run on the core thread; the digest log kept for `hash`
  // (core_admin_digest.cc): `checker` is the ensemble's, or null to keep
  // one here when digest.enabled (standalone).
  void SetEnsembleConf(admin::EnsembleConf conf) { ensemble_conf_ = std::move(conf); }
  void AddStatResetHook(std::function<void()> hook) { stat_reset_hooks_.push_back(std::move(hook)); }
  void InstallDigestLog(zkformat::DigestChecker* checker);
  // Core thread: the digest log's entries, oldest first.
  std::vector<admin::ZxidDigest> DigestHistory() const;
  // Any thread: the server's role changes (leader: epoch = its new epoch).
  void PostRole(ServingRole role, int64_t epoch);
  // Any thread (leader): learners saw these sessions active.
  void PostTouches(std::vector<int64_t> sessions);
  ServingRole serving_role() const { return role_; }
  // Any thread: runs `fn(core, now_ms)` on the core thread after applying
  // everything committed so far (ensemble: SNAP to send or to install).
  void PostCall(std::function<void(Core&, int64_t)> fn);
  // Core thread (core_metrics.cc): mntr's gauges now, for /metrics.
  std::vector<metrics::Sample> MetricsGauges(int64_t now_ms);
  // core_learner.cc: what a learner's clients need from the leader.
  // Leader (core thread): a learner's REVALIDATE of `session_id`: valid iff
  // the session exists and is not closing; a valid one is touched with
  // `timeout_ms` (ZooKeeper's revalidateSession / touchSession).
  bool RevalidateForLearner(int64_t session_id, int32_t timeout_ms, int64_t now_ms);
  // Learner (core thread): the leader's answer to this server's REVALIDATE.
  void OnRevalidateReply(int64_t session_id, bool valid, int64_t now_ms);
  // Learner (core thread, after the txns committed before it are applied):
  // the leader's SYNC for the sync() (session_id, xid) this server forwarded.
  void OnSyncDone(int64_t session_id, int32_t xid);

  // Core thread, not serving: the state becomes `tree` (swapped in) and
  // `sessions` at `zxid` (a SNAP from the leader).
  void InstallSnapshot(tree::DataTree& tree, const std::vector<storage::SessionRecord>& sessions, int64_t zxid,
                       int64_t now_ms);
  // Snapshots go to `s` (not owned); without one the core never snapshots.
  void SetSnapshotter(Snapshotter* s) { snapshotter_ = s; }
  // Take a snapshot at the next opportunity (after startup, as ZooKeeper).
  void RequestSnapshot() { txns_since_snapshot_ = snapshot_threshold_ = INT64_MAX / 4; }

  // Core thread: runs until RequestStop(). Every pass (and every inline
  // pass of Submit) holds the core token, run_mu_: "core thread" in the
  // contracts here and in the Committer means "the thread holding it".
  void Run();

  // Core thread, for tests and Run(): process one batch at `now_ms`
  // (steady clock) then commit, apply and flush.
  void ProcessBatch(std::vector<CoreEvent>& batch, int64_t now_ms);
  // Core thread, for tests: takes the events waiting in the inbox (as Run).
  void TakeInbox(std::vector<CoreEvent>* out);
  void Tick(int64_t now_ms);
  // Core thread, for tests and Run(): starts a snapshot if one is due and
  // serialises its next slice (fallback path). True while one is in progress
  // on the core thread.
  bool SnapshotPass(int64_t now_ms);

  // After input arrived during a group the core made durable itself, the
  // storage thread takes every group for this long (SubmitProposals). Each
  // inline group holds the core for a whole fsync, and a slow one (10-130
  // ms on a shared disk) stalls every request behind it: with 10 ms, a
  // steady 10k sets/s still made ~100 inline groups a second (p99 of a
  // core pass 8-17 ms, 250 ms: 0.6-3.3 ms; docs/perf/pipeline.md).
  static constexpr int64_t kInlineSyncBackoffMs = 250;
  // Submit runs a pass of at most this many reads (and no write) inline.
  static constexpr int kInlineMaxReads = 8;
  // An inline pass runs at most this many passes of joined reads after its
  // own; what joined after that goes to the core thread (the I/O thread
  // returns to its own connections).
  static constexpr int kInlineJoinRounds = 4;

  int64_t last_zxid() const { return applied_zxid_; }
  // Any thread: requests received but not yet answered (in the inbox,
  // waiting in a session queue or held behind a handshake). The network
  // pauses reading above globalOutstandingLimit.
  int64_t Backlog() const {
    return inbox_requests_.load(std::memory_order_relaxed) + queued_total_.load(std::memory_order_relaxed) +
           held_total_.load(std::memory_order_relaxed);
  }
  const tree::DataTree& tree() const { return tree_; }
  const txn::StateMachine& state() const { return sm_; }
  // Hard-limit quota refusals by namespace (quota_exceeded_error_per_namespace);
  // thread-safe. The quota limits / usage figures: tree::CollectQuotaFigures.
  const txn::QuotaErrorCounts& quota_errors() const { return quota_errors_; }
  // core_admin_http.cc: one AdminServer command (src/adminserver), core
  // thread: the serving and authentication checks, its data, its action.
  // `gate` (may be null) runs after authentication: non-zero stops the
  // command with that HTTP status (feature flags, rate limits).
  using AdminGate = std::function<int(adminserver::CommandId, int64_t)>;
  adminserver::CommandResult RunAdminCommand(const adminserver::AdminRequest& req, int64_t now_ms,
                                             const AdminGate& gate);
  // The restore command (standalone): `tree` + `sessions` become the state.
  adminserver::CommandResult RestoreFromAdmin(tree::DataTree& tree, const std::vector<storage::SessionRecord>& sessions,
                                              int64_t now_ms);
  // The four-letter words' cache of system facts; null until a word needed one.
  const AdminProbe* admin_probe() const { return admin_probe_.get(); }
  // Decoded reads' path strings, kept by the core once answered and taken
  // back by the I/O threads for their next decodes (path_pool.h).
  PathPool& path_pool() { return path_pool_; }

 private:
  struct Conn;
  struct Session;
  struct Pending;
  class PendingQueue;
  struct QueueSpares;
  struct PendingCreate;
  struct PendingRevalidation;

  // core_session.cc
  void OnOpened(const CoreEvent& ev);
  void OnConnect(CoreEvent& ev, int64_t now_ms);
  void OnClosed(net::ConnId conn);
  // The network wrote out a parked connection's replies: its held requests run.
  void OnDrained(net::ConnId conn, int64_t now_ms);
  // A createSession was applied: the session tracker and the core's
  // per-session state take it (every session, whichever server created it).
  void AddSession(const txn::SessionChange& c, int64_t now_ms);
  void FinishCreateSession(const txn::Txn& t, const PendingCreate& pc, int64_t now_ms);
  void FinishCloseSession(const txn::Txn& t, int64_t now_ms);
  void SendConnectResponse(net::ConnId conn, const proto::ConnectResponse& rsp, bool close_after);
  // core_learner.cc: a client re-attaching to session req.sessionId. On a
  // learner, a session not attached here is first revalidated with the
  // leader: the ConnectResponse waits for its answer (bounded by the
  // session timeout; then the connection is closed).
  void Reattach(Conn& c, const proto::ConnectRequest& req, int32_t timeout_ms, int64_t now_ms);
  void AttachSession(Conn& c, int64_t session_id, int32_t timeout_ms, bool has_read_only, int64_t now_ms);
  void RefuseSession(Conn& c, bool has_read_only);
  bool StartRevalidation(Conn& c, const proto::ConnectRequest& req, int32_t timeout_ms, int64_t now_ms);
  void ExpireRevalidations(int64_t now_ms);
  // A learner's sync() goes to the leader; false: it is answered here.
  bool ForwardSync(Session& s, Conn& c, CoreEvent& ev);
  // Leader: a learner's forwarded request (a sync() goes back to ZAB).
  void OnForwarded(const ForwardedRequest& f);
  // A forwarded write of s committed (t) while syncs sent before it still
  // wait: they are done (the leader commits in order and proposed the write
  // after it saw them), and leave before the write's reply.
  void CompleteSyncsBefore(Session& s, const txn::Txn& t);
  void DetachConn(Conn& c);
  // The core gives up on `c`: nothing more is run from it or sent to it, and
  // the network closes it.
  void CloseConn(Conn& c);

  // core_request.cc
  void OnRequest(CoreEvent& ev, int64_t now_ms);
  void OnAuth(Conn& c, const proto::Request& req);
  // SASL (core_sasl.cc): one step of the connection's exchange (opcode 102),
  // and enforce.auth's check of every other request (false: refused, the
  // connection closing).
  void OnSasl(Conn& c, const proto::Request& req, int64_t received_us);
  bool EnforceAuth(Conn& c, const proto::Request& req);
  bool IsWrite(proto::OpCode op) const;
  // Standalone with early replies: a sync() while txns are committed but not
  // yet applied waits in the session's queue until they are (true: held).
  bool HoldSync(Session& s, Conn& c, CoreEvent& ev);
  // Answers the held syncs whose txns are all applied now.
  void ReleaseHeldSyncs();
  // local_err: a local session's ephemeral create refused (upgrading off):
  // the leader prepares it failing so, a learner answers it so.
  // A leader's sequencer moves ev.request's body into the txn.
  void ProposeWrite(Session& s, Conn& c, CoreEvent& ev, const std::string* raw_body,
                    proto::Err local_err = proto::Err::kOk);
  void RunNonTxn(Conn& c, const proto::Request& req, proto::Err decode_err, int64_t received_us);
  // getData (RunNonTxn): answered from the tree without copying the data.
  void RunGetData(Conn& c, const proto::Request& req, proto::ReplyHeader hdr, int64_t received_us);
  // slice: the pass's own call (ProcessBatch), where replies may go to the
  // network part way (CoreOptions::reply_slice).
  void ApplyCommitted(int64_t now_ms, bool slice = false);
  // Hands the pass's proposals to the committer together (before taking
  // what is committed). With no input waiting the committer may make them
  // durable on this thread (DurableCommitter: no hop to the storage thread
  // and back, the latency of a lone write). Input that arrived meanwhile
  // means other clients are active: for kInlineSyncBackoffMs the storage
  // thread takes every group, and the core serves them during its fsyncs.
  void SubmitProposals(int64_t now_ms);
  // No event waits in the inbox, nor joined to an inline pass (core.cc).
  bool InboxIdle();
  // The log failed: answer every write still waiting with NOTREADONLY (it
  // will never be durable: the log was cut back) or, when the committer
  // cannot rule out that it is in the log (UnknownThrough), close its
  // connection (outcome unknown); run the reads queued behind them; forget
  // the pending changes.
  void FailPendingWrites();
  // A committed txn of session t.session_id: the answer to its waiting
  // write when (session, cxid) match the head of its queue; otherwise a txn
  // of another server or of the sweeps (a close ends the session here too).
  void DeliverToSession(const txn::Txn& t, const txn::Applied& a);
  void ReplyToWrite(Session& s, const txn::Txn& t, const txn::ApplyResult& r);
  void DrainSession(Session& s);
  void Enqueue(Session& s, Pending p);
  // A new slot at the back of s's queue, for the caller to fill.
  Pending& EnqueueNew(Session& s);
  Pending Dequeue(Session& s);
  // Forgets a closed session's queue (its connection is going away).
  void DropQueue(Session& s);
  // Flow control: a request frame is handed back to the network as credit
  // only once it has been answered, so a connection has at most
  // net::ConnectionServer::kMaxFramesInFlight requests on the core (held,
  // queued or in this pass). Queued and held requests are also bounded in
  // bytes per connection (opts_.max_queued_bytes_per_conn): past that the
  // connection is closed. false: `c` is being closed.
  void Credit(net::ConnId conn);
  void Credit(Conn& c);
  // `c` has pass counts to flush (Flush resets them).
  void NotePassConn(Conn& c);
  bool ChargeQueued(Conn& c, size_t bytes);
  void Hold(Conn& c, CoreEvent&& ev);
  // The handshake finished (or the connection closed): run (or drop) what
  // was held behind it.
  void ReleaseHeld(Conn& c, int64_t now_ms);
  void DropHeld(Conn& c);
  void FireWatches(const std::vector<txn::WatchTrigger>& triggers);
  proto::Err SetWatches(Conn& c, const proto::SetWatches2& sw);
  // Registers the watch a read asked for; false when the connection's watch
  // bounds refuse it (the read is then answered kQuotaExceeded).
  bool RegisterReadWatch(Conn& c, const proto::Request& req, proto::Err err);
  // May connection `conn` READ a node with `acl` (its auth ids now)?
  bool MayRead(net::ConnId conn, const proto::AclList& acl);
  // The identity `c`'s requests run as: a reference into `c`, not a copy.
  const txn::SessionCtx& CtxOf(Conn& c);

  // core_audit.cc (audit.enable): the note an audited write keeps until its
  // txn commits; its lines once it did (on the server the client is
  // connected to); the lines for the ephemerals a session's close removed
  // (on every server, as ZooKeeper's DataTree).
  void NoteForAudit(Pending& p, const Conn& c, const CoreEvent& ev);
  void AuditWrite(const Pending& p, const txn::Txn& t, const txn::ApplyResult& r);
  void AuditEphemerals(int64_t session_id, const std::vector<std::string>& paths);
  // "ip:port" of connection `conn`, or "(gone)" for the log.
  std::string PeerOf(net::ConnId conn) const;

  // core_output.cc
  // `op`: the request's type for the latency metrics (kNotification: not a
  // data request, counted in readlatency only, as ZooKeeper's pings).
  void SendReply(net::ConnId conn, const proto::ReplyHeader& hdr, const proto::ResponseBody& body, int64_t received_us,
                 bool close_after = false, proto::OpCode op = proto::OpCode::kNotification);
  // A successful getData's reply encoded straight from node `n` (no copy of
  // its data into a GetDataResponse first).
  void SendGetDataReply(net::ConnId conn, const proto::ReplyHeader& hdr, const tree::Node& n, int64_t received_us);
  // The bookkeeping of a reply of `bytes` just appended to out_ (`c`: the
  // connection's state, null when it is gone); `sent`: a reply the committer
  // already sent (an early reply: nothing in out_, `bytes` its size).
  void ReplyQueued(Conn* c, const proto::ReplyHeader& hdr, size_t bytes, int64_t received_us, bool close_after,
                   proto::OpCode op, bool sent = false);
  void SendEvent(net::ConnId conn, const proto::WatcherEvent& ev);
  // Counts `bytes` more output for `conn` in this pass; past
  // opts_.max_output_bytes the connection's output is dropped and it is
  // closed (the network would close it on delivery anyway).
  void ChargeOutput(Conn& c, size_t bytes);
  // The reply buffer in out_ that `conn`'s next reply or event is appended
  // to (`c`: its state, null when it is gone).
  std::string* TailFor(net::ConnId conn, Conn* c);
  void Flush();
  // core_snapshot.cc
  void MaybeStartSnapshot(int64_t now_ms);
  bool StepSnapshot();  // true while a snapshot is still being built
  // core_role.cc
  void ChangeRole(ServingRole role, int64_t epoch, int64_t now_ms);
  void TouchFromLearners(const std::vector<int64_t>& sessions, int64_t now_ms);
  void SendTouches();
  // core_read_only.cc: read-only mode (ServingRole::kReadOnly).
  // The handshake of a client in read-only mode (`c` is answered or closed).
  void ConnectReadOnly(Conn& c, const proto::ConnectRequest& req, int32_t timeout_ms, int64_t now_ms);
  // The session id `c` gets (0: refused, `c` closing or answered).
  int64_t NewLocalSession(Conn& c, int32_t timeout_ms, int64_t now_ms);
  int64_t ReattachReadOnly(Conn& c, const proto::ConnectRequest& req);
  // A request in read-only mode: refused ones get decode_err NOTREADONLY and
  // run as reads; true when it was handled here (a local closeSession).
  bool FilterReadOnly(Conn& c, Session& s, CoreEvent& ev);
  // Whether `op` of session `s` is answered NOTREADONLY in read-only mode.
  bool RefusedReadOnly(proto::OpCode op, const Session& s) const;
  // A closeSession of a local (read-only) session: answered and forgotten here.
  void CloseLocalSession(Session& s, Conn& c, const proto::Request& req, int64_t received_us);
  void ForgetLocalSession(int64_t id);
  // Local sessions past their timeout are closed; the ensemble's sessions are
  // not expired here (the next leader does).
  void ExpireLocalSessions(int64_t now_ms);
  // Leaving read-only mode (or any role): the local sessions end with it, and
  // so do upgrades whose createSession was not applied.
  void DropLocalSessions();
  // A local session past its timeout: its connection is closed, it is forgotten.
  void ExpireLocal(int64_t id);
  // core_local_session.cc: localSessionsEnabled on a leader or learner.
  bool LocalSessionsOn() const;
  bool IsLocalHere(int64_t id) const { return local_sessions_.count(id) != 0 || upgrading_.count(id) != 0; }
  // A write of local session `s`: its close stays on this member (true:
  // handled here); an ephemeral create first upgrades the session (a
  // createSession to the leader), or with upgrading off is answered
  // EPHEMERALONLOCALSESSION (*local_err).
  bool LocalSessionWrite(Session& s, Conn& c, CoreEvent& ev, proto::Err* local_err);
  void UpgradeSession(Session& s);
  // The close of a local session at the head of its queue: answered, the
  // connection closed after the reply, the session forgotten (`s` is gone).
  void FinishLocalClose(Session& s, net::ConnId conn, int32_t xid, int64_t received_us);
  // A committed createSession of a session this member upgraded (or holds as
  // local): it is global now; true when it was one.
  bool AdoptUpgraded(const txn::SessionChange& c, int64_t now_ms);
  // core_admin.cc
  void OnFourLetter(const CoreEvent& ev, int64_t now_ms);
  // Only the admin::SnapshotPart bits in `parts` are filled. `asking`: the
  // connection a four-letter word came in on (shown idle).
  admin::ServerSnapshot Snapshot(net::ConnId asking, unsigned parts, int64_t now_ms);
  void FillStats(admin::ServerSnapshot& s) const;
  void FillConnections(admin::ServerSnapshot& s, net::ConnId asking) const;
  void FillConfig(admin::ServerSnapshot& s) const;
  // core_admin_dump.cc: dump's sections; crst / srst / stmk's effects.
  void FillDump(admin::ServerSnapshot& s) const;
  void ResetConnectionStats();
  static void NoteRequestOp(Conn& c, const proto::RequestHeader& h);
  // now_ms: the steady clock now (read here when negative).
  void NoteReplyStats(Conn& c, const proto::ReplyHeader& h, int64_t latency_us, int64_t now_ms = -1) const;
  void ResetServerStats();
  bool RunFourLetterAction(std::string_view word, const CoreEvent& ev, const admin::ServerSnapshot& s);
  AdminProbe& Probe();
  // Returns the latency in us; *now_us (when given): the clock reading it used.
  int64_t RecordLatency(int64_t received_us, proto::OpCode op, int64_t* now_us = nullptr);
  // core_metrics.cc
  void CountApplied(const txn::Txn& t, int64_t wall_ms);  // wall_ms: read once per batch
  void CountRead(const proto::Request& req, const proto::ResponseBody& body);
  void CountReadBytes(std::string_view path, int64_t bytes);  // read_per_namespace
  void CountWatchesFired(proto::EventType type, size_t watchers);
  // core_admin_http.cc
  bool AdminAuthorized(const adminserver::AdminRequest& req, adminserver::CommandResult* r) const;
  void FillAdminExtras(adminserver::CommandId id, adminserver::AdminExtras* x) const;
  void AdminSnapshot(adminserver::CommandResult* r);

  CoreOptions opts_;
  Committer* committer_;
  Outbox* outbox_;
  const base::Clock* clock_;  // opts_.clock or the system clock

  txn::StateMachine sm_;                // the replicated state: tree + session table
  tree::DataTree& tree_;                // sm_.tree()
  txn::QuotaErrorCounts quota_errors_;  // counted by the leader sequencer's Preparer
  session::SessionTracker sessions_;
  watch::WatchManager watches_;

  std::unordered_map<net::ConnId, std::unique_ptr<Conn>> conns_;
  // Recently made ("ip", address) identity lists, by a hash of the address:
  // a new connection from one of them shares the list (txn::IdList) instead
  // of owning a copy. Bounded (kIpIdSlots lists), core thread.
  static constexpr size_t kIpIdSlots = 64;
  std::array<txn::IdList, kIpIdSlots> ip_ids_;
  txn::IdList IpIdentity(const std::string& ip);
  // By value (one node a session, no second block: idle-session memory).
  std::unordered_map<int64_t, Session> session_state_;
  std::unordered_map<int64_t, PendingCreate> creating_;            // session id -> its createSession, not yet applied
  std::unordered_map<int64_t, PendingRevalidation> revalidating_;  // learner: session id -> REVALIDATE sent
  // Local sessions (read-only mode's, and every new session of a leader or
  // learner with localSessionsEnabled): tracked and served here, never
  // replicated; gone at the next role change.
  std::unordered_set<int64_t> local_sessions_;
  // Local sessions whose upgrade (createSession) is proposed or forwarded,
  // not yet applied.
  std::unordered_set<int64_t> upgrading_;
  std::unique_ptr<Sequencer> sequencer_;
  std::atomic<ServingRole> role_{ServingRole::kStandalone};
  Forwarder* forwarder_ = nullptr;
  TouchSink touch_sink_;
  std::function<void(admin::ServerSnapshot&)> status_hook_;
  FollowerSequencer* follower_ = nullptr;  // sequencer_ when kFollower

  Snapshotter* snapshotter_ = nullptr;
  std::unique_ptr<storage::SnapshotBuilder> snapshot_;
  int64_t txns_since_snapshot_ = 0;
  int64_t snapshot_threshold_ = 0;
  int64_t last_purge_ms_ = 0;
  uint64_t rng_state_ = 0x9e3779b97f4a7c15ULL;

  bool storage_failed_ = false;
  int64_t inline_sync_backoff_until_ms_ = 0;  // SubmitProposals
  int64_t applied_zxid_ = 0;
  std::vector<net::ConnectionServer::Out> out_;
  // Reply buffers the network handed back emptied (Flush), reused by
  // TailFor: at most kMaxSpareBuffers of at most kSpareMaxBytes each (what an
  // idle server keeps stays small); smaller than kSpareMinBytes is not worth
  // keeping (std::string's inline buffer).
  static constexpr size_t kMaxSpareBuffers = 32;
  static constexpr size_t kSpareMinBytes = 15;
  static constexpr size_t kSpareMaxBytes = 16u << 10;
  std::vector<std::string> spare_bytes_;
  // Connections with frames answered or output queued in this pass (their
  // Conn::pass_* counts); credit for a connection the core no longer knows.
  std::vector<net::ConnId> pass_conns_;
  std::vector<std::pair<net::ConnId, uint32_t>> credit_gone_;
  std::vector<txn::Txn> committed_;
  // HoldSync's syncs, in order: answered once applied_zxid_ >= target.
  struct HeldSync {
    int64_t target = 0;
    int64_t session = 0;
    int32_t xid = 0;
  };
  std::deque<HeldSync> held_syncs_;
  bool pass_applied_ = false;  // this pass applied committed txns (its replies: Outbox::DeliverWrites)
  txn::Applied applied_;       // ApplyCommitted's, one txn at a time (its vectors' capacity is kept)
  std::vector<watch::Fired> fired_;
  // request_latency_by_op's summaries by opcode + kLatencyOpBias (RecordLatency).
  static constexpr int32_t kLatencyOpBias = 16;
  std::array<metrics::Summary*, 128> latency_by_op_{};
  std::unique_ptr<AdminProbe> admin_probe_;    // created on first use
  std::unique_ptr<QueueSpares> queue_spares_;  // emptied session queues' storage, created on first use
  PathPool path_pool_;
  std::optional<admin::EnsembleConf> ensemble_conf_;
  std::vector<std::function<void()>> stat_reset_hooks_;
  int64_t trace_mask_ = admin::kDefaultTraceMask;        // gtmk / stmk: stored only
  std::unique_ptr<zkformat::DigestChecker> own_digest_;  // standalone with digest.enabled
  std::unique_ptr<DigestLog> digest_log_;

  // stats
  int64_t packets_received_ = 0;
  int64_t packets_sent_ = 0;
  int64_t latency_min_us_ = -1;
  int64_t latency_max_us_ = 0;
  int64_t latency_total_us_ = 0;
  int64_t latency_count_ = 0;
  int64_t start_ms_ = 0;

  // The core token: held by the core thread for each pass and by an I/O
  // thread for an inline pass (Submit). Taken before mu_, never after.
  std::mutex run_mu_;
  std::atomic<bool> snapshotting_{false};  // a snapshot is being built a slice per pass (written by the token holder)
  std::atomic<int64_t> inline_passes_{0};
  std::atomic<int64_t> joined_submits_{0};
  // Submit's pass on the calling thread; false (nothing done) when the core
  // is not idle.
  bool RunInline(std::vector<CoreEvent>& events);
  // RunInline / ApplyCommitsInline, the core token held: runs `events` as a
  // pass on this thread, then what joined it, unless the core thread has
  // work of its own (then false: nothing ran).
  bool PassHere(std::vector<CoreEvent>& events, int64_t now);
  // The token is held: hands `events` (reads only) to the inline pass
  // holding it, if one runs and the inbox is empty; false: not taken.
  bool Join(std::vector<CoreEvent>& events);
  // The inline pass's holder, after its own pass: runs what joined it (at
  // most kInlineJoinRounds passes), then ends the inline run; anything left
  // goes to the front of the inbox, for the core thread.
  void RunJoined();

  // cross-thread inbox
  std::mutex mu_;
  bool core_waiting_ = false;  // the core thread sleeps in Run's wait with nothing to do
  // An inline pass holds the token (RunInline .. RunJoined), and `joined_`
  // holds the reads that joined it: all arrived while inbox_ was empty, so
  // they precede everything in inbox_.
  bool inline_running_ = false;
  std::vector<CoreEvent> joined_;
  std::condition_variable cv_;
  std::vector<CoreEvent> inbox_;
  bool stop_ = false;
  bool commits_ready_ = false;
  // Work for the core thread (inbox_ not empty, commits_ready_ or stop_):
  // set under mu_ with them, cleared when Run takes them; read without the
  // lock while the core thread polls before sleeping (CoreOptions::spin_us).
  std::atomic<bool> signalled_{false};
  // CoreOptions::spin_us: polls signalled_ for up to that long while writes
  // are in flight (core thread, between passes).
  void SpinForInput();
  std::atomic<int64_t> inbox_requests_{0};
  // Requests waiting in session queues: exact in queued_ (token holder),
  // published to queued_total_ for Backlog() at the end of each pass
  // (Flush): one store per pass instead of two read-modify-writes per
  // queued read on a line the I/O threads read (Throttled).
  int64_t queued_ = 0;
  std::atomic<int64_t> queued_total_{0};
  std::atomic<int64_t> held_total_{0};
};

}  // namespace aviary::server
