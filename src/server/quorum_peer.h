// QuorumPeer: hosts one server's zab::Node (src/zab) and wires it to the
// sockets (src/peer), the write-ahead log, the epoch files and the Core.
//
// Owns: the node, the election and quorum transports, the WAL (after
// recovery), the txns logged but not yet applied, and the consensus thread.
// Roles: as the Core's Committer it takes the leader sequencer's txns
// (encoded in ZooKeeper's txn bytes → Node::Propose) and hands committed txns
// back in zxid order; as the Core's Forwarder it sends a follower's writes
// to the leader (REQUEST); a follower's session touches ride on its PING
// replies; REQUEST / PING touches from learners reach the leader's Core as
// events. Role changes reach the Core as ServingRole (not serving until the
// node is broadcasting; with readonlymode.enabled, read-only after LOOKING
// for max(2 s, tickTime): quorum_peer_read_only.cc).
//
// Threads: Start/Stop from the controlling thread; Committer and Forwarder
// methods and QueueTouches from the core thread (they only queue under mu_
// and interrupt the consensus thread's wait); everything else runs on the
// consensus thread, which alone touches the node and the epoch files. The
// storage thread (QuorumLog) runs the node's appends and fsyncs in order,
// with group commit (appends queued during one fsync share the next); the
// consensus thread never waits for the disk on the write path: fsync
// completions come back (TakeFsyncs) as Node::OnFsyncDone, in order. The
// WAL is touched by the storage thread, or by the consensus thread only
// after QuorumLog::Drain (TRUNC, SNAP install, DIFF reads the files).
// Timing: the node's clock is set (Node::SetTime) before each batch of
// packets is handed over, so any packet from the leader renews the
// learner's syncLimit from its arrival (ZooKeeper: a socket read timeout).
//
// Storage housekeeping: the log is rolled at each snapshot (RequestRoll);
// purge (Snapshotter) drops old files; before each sync decision the node
// learns where the log now starts (NoteLogStart), so a learner the log no
// longer covers gets a SNAP, streamed from a forked child (SnapStream).
//
// A TRUNC below what recovery applied (an old leader's uncommitted tail)
// cuts the log and reloads the Core's state from snapshot + log (Truncate).
// REVALIDATE is answered from the leader Core's session table; a learner's
// sync() waits for the leader's SYNC (quorum_peer_session.cc).
//
// Digests (quorum_peer_digest.cc): the leader's PROPOSALs carry the TxnDigest
// ZooKeeper would (predicted on the core thread in Propose); every txn that
// comes with one is compared after apply by the DigestChecker this peer
// installs on the Core's state machine; a mismatch is logged and counted
// (mntr zk_digest_mismatches_count) and, on a learner with
// aviary.digest.stopOnMismatch, stops the server.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "adminserver/command_result.h"
#include "config/quorum_config.h"
#include "peer/election_transport.h"
#include "peer/quorum_transport.h"
#include "server/committer.h"
#include "server/core.h"
#include "server/quorum_log.h"
#include "server/sequencer.h"
#include "server/snap_receiver.h"
#include "server/snap_stream.h"
#include "storage/wal.h"
#include "zab/node.h"
#include "zkformat/digest_check.h"
#include "zkformat/digest_inflight.h"

namespace aviary::server {

struct QuorumPeerOptions {
  config::QuorumConfig quorum;
  std::string data_dir;  // snapshots + epoch files
  storage::WalOptions wal;
  int64_t recovered_zxid = 0;  // what recovery applied (log + snapshot)
  int64_t snapshot_zxid = 0;   // the snapshot recovery started from (0: none)
  int64_t accepted_epoch = 0;
  int64_t current_epoch = 0;
  peer::QuorumSaslSettings sasl;  // quorum SASL (peer/quorum_auth.h)
};

// What the admin words show about the ensemble (any thread).
struct QuorumStatus {
  zab::Role role = zab::Role::kLooking;
  bool serving = false;
  int64_t epoch = 0;     // the node's current epoch
  int64_t learners = 0;  // leader: connected learners, observers included (zk_learners)
  int64_t synced_learners = 0;
  int64_t synced_observers = 0;
  int64_t pending_syncs = 0;
  admin::ServerSnapshot::Sizes proposal_sizes;  // leader: since it leads (ZooKeeper's proposalStats)
  bool leader_is_aviary = false;                // learner: LEADERINFO came from an Aviary leader
  int64_t leader_id = -1;                       // the leader's server id (-1: none)
  int64_t leader_since_ms = -1;                 // leader: steady ms when it began to serve (leader_uptime)
  zab::Node::ZabState zab_state = zab::Node::ZabState::kElection;
};

class QuorumPeer final : public Committer, public Forwarder {
 public:
  explicit QuorumPeer(QuorumPeerOptions opts);
  ~QuorumPeer() override;

  // After recovery, before Start: what recovery applied (the whole log),
  // the snapshot it started from (known committed: the Core snapshots only
  // committed state) and the epochs.
  void SetRecovered(int64_t zxid, int64_t snapshot_zxid, int64_t accepted_epoch, int64_t current_epoch);
  // Opens the log, binds the election and quorum ports, starts the thread.
  bool Start(Core* core, std::string* error);
  void Stop();
  QuorumStatus status() const;
  // The ensemble's part of the four-letter words (Core::SetStatusHook).
  void FillStatus(admin::ServerSnapshot& s) const;
  void ResetProposalSizes();  // srst on a leader (any thread)
  // The AdminServer's leader / voting_view / zabstate (quorum_peer_admin.cc).
  // Any thread.
  void FillEnsemble(adminserver::EnsembleInfo* e) const;

  // Committer (core thread).
  void Propose(txn::Txn txn) override;
  void TakeCommitted(std::vector<txn::Txn>* out) override;
  // Wakes the consensus thread once for the pass's proposals and forwarded
  // writes (Propose and Forward only queue them). Never writes inline.
  bool EndOfPass(bool core_idle) override;
  // At each snapshot (core thread): the consensus thread rolls the log
  // after its next fsync (Wal::MaybeRoll), so that purge can drop segments.
  void RequestRoll(int64_t next_zxid) override;
  // Forwarder (core thread).
  void Forward(ForwardedRequest request) override;
  void Revalidate(int64_t session_id, int32_t timeout_ms) override;
  void AnswerLearnerSync(uint64_t learner_conn) override;
  // Core::TouchSink (core thread).
  void QueueTouches(std::vector<std::pair<int64_t, int32_t>> touches);

 private:
  void Run();
  void TakeInbox();
  void ForwardsSent();
  void ProposeHeld();
  bool Batchable(const peer::QuorumEvent& ev) const;
  void OnQuorumEvent(peer::QuorumEvent& ev);
  void Drive();  // TakeReady until empty, executing each
  void Execute(zab::Ready& r);
  void RunStorage(std::vector<zab::StorageOp>& ops);
  void TakeFsyncs();
  void AppendLogged(zab::StorageOp& op);
  void Truncate(int64_t zxid);
  void CommitThrough(int64_t zxid);
  void ReleaseLogged();  // drops handed entries the storage thread is done with
  void CloseSnapWindow(int64_t zxid);
  void SendPackets(std::vector<zab::Outgoing>& packets);
  void SendDiff(const zab::Outgoing& o);
  bool SendWaiting(peer::ConnId conn, const quorum::QuorumPacket& p);
  void ConnectLeader(int64_t sid);
  void ToHost(std::vector<zab::HostPacket>& packets);
  // REVALIDATE (both sides) and SYNC answers (learner).
  void OnRevalidate(const zab::HostPacket& h);
  void SyncsDone(int64_t count);
  void SendRevalidations(std::vector<std::pair<int64_t, int32_t>>& asks,
                         std::vector<std::pair<int64_t, quorum::RevalidateReply>>& answers);
  void LearnerSyncs(const std::vector<uint64_t>& conns);
  void CoreCall(std::function<void(Core&, int64_t)> fn);
  void NoteRole();
  void FlushCore();
  // quorum_peer_metrics.cc (consensus thread)
  void NoteRoleMetrics(zab::Role role, bool serving);
  void CountAppended(int64_t zxid, int64_t txn_time_ms);
  struct AppendClock {  // CountAppended's clocks, read once per RunStorage (-1: not yet)
    int64_t wall_ms = -1;
    int64_t steady_ms = -1;
  };
  AppendClock append_clock_;
  void CountCommitted(std::span<const txn::Txn> batch, int64_t through);
  void CountSent(const zab::Outgoing& o);
  void NoteLearnerPacket(peer::ConnId conn, const quorum::QuorumPacket& p);        // leader: FOLLOWERINFO, ACK
  void FillMetricsStatus(const QuorumStatus& st, admin::ServerSnapshot& s) const;  // core thread
  // quorum_peer_read_only.cc: readonlymode.enabled's timer.
  void MaybeServeReadOnly();
  void ResetReadOnlyTimer();  // the role changed: read-only mode (if any) has ended
  // quorum_peer_snap.cc
  bool OnCore(std::function<void(Core&, int64_t)> fn);  // runs fn there, waits
  void InstallSnapshot(int64_t zxid);
  void SendSnap(const zab::Outgoing& o);
  void Fatal(const std::string& why);
  // quorum_peer_digest.cc
  struct Proposal {
    txn::Txn txn;
    std::string bytes;  // ZooKeeper's txn bytes, with the TxnDigest when it has one
  };
  Proposal EncodeProposal(txn::Txn t);                        // core thread
  void NoteProposalSizes(const std::deque<Proposal>& props);  // consensus thread
  void OnDigestMismatch(const zkformat::DigestMismatch& m);   // core thread
  // quorum_peer_stream.cc: the log's start for the node's sync decisions,
  // and the leader's SNAP bodies streamed from a SnapStream.
  void NoteLogStart();
  void NoteSizeRule();
  bool HoldForSnap(zab::Outgoing& o);
  void PumpSnaps();
  void DropSnap(peer::ConnId conn);

  QuorumPeerOptions opts_;
  Core* core_ = nullptr;
  std::unique_ptr<zab::Node> node_;
  std::unique_ptr<peer::ElectionTransport> election_;
  std::unique_ptr<peer::QuorumTransport> quorum_;
  storage::Wal wal_;
  std::unique_ptr<QuorumLog> log_;  // the storage thread (appends, fsyncs)
  std::thread thread_;
  std::atomic<bool> stop_{false};

  // Consensus thread only.
  // Logged (queued to the storage thread, which reads the txn in place:
  // QuorumLog::Append), ascending; an entry handed to the core stays until
  // the storage thread is done with it (a deque keeps the others in place).
  struct LoggedTxn {
    txn::Txn txn;
    uint64_t seq = 0;     // QuorumLog::Append's number
    bool handed = false;  // committed: moved (or, not yet written, copied) to the core
  };
  std::deque<LoggedTxn> logged_;
  std::deque<txn::Txn> proposed_;         // leader: the core's txns, ascending zxids, until logged
  std::deque<Proposal> held_props_;       // leader: the core's, waiting while the node is busy
  std::set<peer::ConnId> learner_conns_;  // accepted (leader side)
  peer::ConnId leader_conn_ = 0;
  std::optional<quorum::QuorumPacket> pending_snap_;  // SNAP packet, its body still arriving
  std::unique_ptr<SnapReceiver> snap_;                // a received body, until installed
  // Leader: a SNAP body being streamed to a learner; the node's packets for
  // that learner wait in `held` until the body is out (ZooKeeper's
  // LearnerHandler queues them likewise).
  struct SnapOut {
    std::unique_ptr<SnapStream> stream;
    std::deque<zab::Outgoing> held;
    size_t held_bytes = 0;
  };
  std::map<peer::ConnId, SnapOut> snap_out_;
  bool leader_connected_ = false;
  int64_t applied_ = 0;            // handed to the core
  bool snap_window_open_ = false;  // SNAP installed, its fuzzy window not bounded yet
  bool serving_ = false;
  zab::Role role_ = zab::Role::kLooking;
  struct EnsembleTimes {  // steady ms, -1: not running (quorum_peer_metrics.cc)
    int64_t looking_since_ms = -1;
    int64_t unavailable_since_ms = -1;
    int64_t sync_since_ms = -1;
    bool begun = false;  // the first role was noted
  };
  EnsembleTimes ensemble_times_;
  struct NotedStatus {  // NoteRole: what status_ was last given
    zab::Role role;
    bool serving;
    int64_t learners, synced_learners, synced_observers, pending_syncs, epoch;
    bool leader_is_aviary;
    int64_t leader_id;
    zab::Node::ZabState zab_state;
    bool operator==(const NotedStatus&) const = default;
  };
  std::optional<NotedStatus> noted_status_;
  std::deque<std::pair<int64_t, int64_t>>
      proposal_started_ms_;                       // leader: (zxid, steady ms it was logged here), ascending
  std::map<int64_t, int64_t> ack_sampled_ms_;     // leader: the same for the few zxids ack_latency samples
  std::map<peer::ConnId, int64_t> learner_sids_;  // leader: a learner connection's sid (its LearnerInfo)
  std::map<int64_t, int32_t> touches_;
  // Learner: the syncs (session, cxid) sent to the current leader, oldest
  // first; each SYNC answers the oldest (ZooKeeper's pendingSyncs).
  std::deque<std::pair<int64_t, int32_t>> syncs_sent_;
  std::vector<peer::QuorumEvent> events_;  // this pass's quorum events
  struct Inbox {                           // TakeInbox's scratch (swapped with the core thread's queues)
    std::deque<Proposal> props;
    std::deque<ForwardedRequest> fwds;
    std::vector<std::pair<int64_t, int32_t>> touches;
    std::vector<std::pair<int64_t, int32_t>> asks;
    std::vector<std::pair<int64_t, quorum::RevalidateReply>> answers;
    std::vector<uint64_t> syncs;
  };
  Inbox inbox_;
  std::vector<uint64_t> fsync_tokens_;  // TakeFsyncs' scratch
  // For the core, handed over once per pass (FlushCore).
  std::vector<txn::Txn> to_core_commits_;
  std::vector<CoreEvent> to_core_events_;
  std::vector<int64_t> to_core_touched_;
  int64_t looking_since_ms_ = -1;     // steady ms this LOOKING spell started (-1: not looking)
  int64_t election_started_ms_ = -1;  // steady ms this server stopped serving (-1: serving), for the log
  bool read_only_ = false;            // the Core was told kReadOnly in this spell

  // Learner: the leader connection the core thread sends its writes to
  // (Forward), while serving; 0 otherwise (consensus thread stores).
  std::atomic<peer::ConnId> forward_conn_{0};

  // Core thread (the checker's counters: any thread).
  zkformat::DigestPredictor predictor_;
  bool forwarded_direct_ = false;  // REQUESTs sent since the last EndOfPass
  std::unique_ptr<zkformat::DigestChecker> checker_;

  // Core thread → consensus thread, and committed txns back.
  mutable std::mutex mu_;
  std::deque<Proposal> to_propose_;
  std::deque<ForwardedRequest> to_forward_;
  size_t forwards_in_transit_ = 0;  // taken from to_forward_, not yet in the transport's queue
  bool inbox_due_ = false;          // queued since the last EndOfPass: the consensus thread is to be woken
  std::vector<std::pair<int64_t, int32_t>> new_touches_;
  std::vector<uint64_t> to_sync_;                           // leader: learner connections whose sync() reached the core
  std::vector<std::pair<int64_t, int32_t>> to_revalidate_;  // learner: (session, timeout)
  std::vector<std::pair<int64_t, quorum::RevalidateReply>> revalidated_;  // leader: (learner sid, answer)
  std::vector<txn::Txn> committed_;
  QuorumStatus status_;
};

// zoo.cfg's ensemble as the node's configuration (members, timing, the
// QuorumVerifier text ZooKeeper sends in notifications and NEWLEADER).
zab::Config MakeZabConfig(const config::QuorumConfig& q);
std::string QuorumVerifierText(const config::QuorumConfig& q);
// How long a member looks for a leader before it serves read-only clients:
// max(2000 ms, tickTime), as ZooKeeper.
int64_t ReadOnlyDelayMs(const config::QuorumConfig& q);

}  // namespace aviary::server
