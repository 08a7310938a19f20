// zab::Node: one server's consensus core as ONE pure state machine:
// ZooKeeper's fast leader election, then ZAB discovery, synchronisation and
// broadcast as leader, follower or observer (docs/design/zab.md).
//
// Inputs: Tick(now_ms), notifications, quorum-port packets and connection
// events, fsync completions, proposals from the host's sequencer. Outputs:
// one Ready at a time (types.h) with the epochs to persist, storage ops,
// messages, the commit point and the role. No sockets, threads, clocks or
// files: the host (server wiring, or tests/sim) does all I/O.
//
// Thread: one caller (the host's consensus thread); not thread-safe.
// Invariants (AV_CHECK):
//  1. committed() <= last_logged(): only logged txns are applied;
//  2. the commit point only grows, except when a SNAP replaces the state;
//  3. current_epoch <= accepted_epoch; both only grow;
//  4. a follower ACKs a proposal only after the fsync that covers it and
//     after it persisted the leader's epoch as current (NEWLEADER), and ACKs
//     NEWLEADER only after its whole log is durable.
// Peer input never trips an invariant: a malformed or out-of-protocol packet
// closes that connection (a learner then goes back to LOOKING).
#pragma once

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "zab/election.h"
#include "zab/types.h"

namespace aviary::zab {

enum class ProposeStatus { kOk, kNotLeader, kBusy, kZxidMismatch, kEpochExhausted };

class Node {
 public:
  Node(Config config, const Bootstrap& boot);

  void Start(int64_t now_ms);  // enter LOOKING
  void Tick(int64_t now_ms);
  // The inputs that follow happen at now_ms (the clock never goes back).
  // Unlike Tick it fires no timer: a host that was busy calls it before
  // handing over what arrived meanwhile, so that a leader's packet renews a
  // learner's limit from its arrival, not from the last Tick (ZooKeeper's
  // Learner: any packet read within syncLimit x tickTime counts).
  void SetTime(int64_t now_ms) { now_ms_ = std::max(now_ms_, now_ms); }
  void OnNotification(ServerId from, const Notification& n);
  // The host's election channel to `sid` went down (a connect failed, or the
  // connection closed) or came up. While LOOKING, a round whose quorum
  // agrees ends at once when every other voter agrees too or went down
  // since the round began (Election::OnPeerChannel).
  void OnPeerChannel(ServerId sid, bool up);
  void OnFsyncDone(uint64_t token);

  // Learner side of the quorum port. A SNAP packet's data holds the
  // snapshot bytes the host read after it.
  void OnLeaderConnected(ConnId conn);
  void OnLeaderConnectFailed();
  void OnLeaderPacket(ConnId conn, const QuorumPacket& p);
  void OnLeaderDisconnected(ConnId conn);

  // Leader side of the quorum port.
  void OnLearnerConnected(ConnId conn);
  void OnLearnerPacket(ConnId conn, const QuorumPacket& p);
  void OnLearnerDisconnected(ConnId conn);

  // Leader: the next zxid, then the txn carrying it (group commit: one
  // fsync per Ready covers every proposal made since the last one).
  Zxid NextZxid() const { return last_proposed_ + 1; }
  // A leader's Propose would answer kBusy now (max_outstanding_proposals).
  bool proposals_full() const {
    return role_ == Role::kLeading && outstanding_.size() >= config_.max_outstanding_proposals;
  }
  ProposeStatus Propose(Zxid zxid, std::string bytes);
  // Learner: forward a client's REQUEST (a sync() too: the leader answers
  // SYNC) / queue PING touches.
  bool Forward(QuorumPacket request);
  void QueueTouches(std::string data) { touches_ = std::move(data); }
  // Leader: a packet the host answers (REVALIDATE) to learner `sid`.
  bool SendToLearner(ServerId sid, QuorumPacket p);
  // Host compacted its log: txns <= upto (<= committed()) are gone.
  void TrimLog(Zxid upto);
  // Leader's host, before a sync decision: a learner whose last zxid is
  // below `floor` is not synced from the log (ZooKeeper's snapshotSizeFactor
  // rule, DiffSizeFloor in sync_plan.h) unless it missed at most
  // Config::commit_log_count txns; it gets a SNAP. 0: no limit.
  void SetDiffFloor(Zxid floor) { diff_floor_ = floor; }
  // Leader's host: the SNAP body for `conn` is out (it streams for a while,
  // the packets queued behind it wait). The syncLimit clock of the
  // proposals already queued to that learner restarts now, as ZooKeeper
  // times a proposal from when it is written, after the snapshot.
  void OnSnapSent(ConnId conn);

  Ready TakeReady();
  // Optional: hands back a Ready the host has executed; a later TakeReady
  // reuses its (cleared) buffers, so a busy host does not allocate them
  // anew for every batch. What it held is dropped.
  void Recycle(Ready&& done);

  Role role() const { return role_; }
  bool serving() const;  // leader broadcasting or learner after UPTODATE
  // ZooKeeper's QuorumPeer.ZabState (the AdminServer's zabstate): election
  // while looking; discovery until the new epoch is agreed (leader: epoch
  // acks; learner: LEADERINFO answered); synchronization until NEWLEADER /
  // UPTODATE; then broadcast.
  enum class ZabState : uint8_t { kElection, kDiscovery, kSynchronization, kBroadcast };
  ZabState zab_state() const;  // leader broadcasting or learner after UPTODATE
  ServerId leader() const { return role_ == Role::kLooking ? kNone : vote_.leader; }
  // Learner: the leader's LEADERINFO said it is an Aviary server.
  bool leader_is_aviary() const { return leader_is_aviary_; }
  int64_t accepted_epoch() const { return accepted_epoch_; }
  int64_t current_epoch() const { return current_epoch_; }
  Zxid committed() const { return committed_; }
  Zxid last_logged() const { return log_.empty() ? log_base_ : log_.back(); }
  size_t learner_count() const { return learners_.size(); }
  // Leader: voting learners synced and in broadcast (ZooKeeper's forwarding
  // followers), observers likewise (its observingLearners), and the
  // learners' SYNCs waiting for a commit (its pendingSyncs).
  size_t synced_follower_count() const;
  size_t synced_observer_count() const;
  size_t pending_sync_count() const { return pending_syncs_.size(); }
  std::string Describe() const;

 private:
  enum class LeadPhase { kEpoch, kEpochAck, kNewLeaderAck, kBroadcast };
  enum class LearnPhase { kConnecting, kLeaderInfo, kSyncKind, kSyncBody, kNewLeaderFsync, kUpToDate, kBroadcast };
  enum class LPhase { kInfo, kEpoch, kAckEpoch, kEpochQuorum, kSynced, kNewLeaderAcked, kActive };
  struct Learner {
    ConnId conn = 0;
    ServerId sid = kNone;
    bool observer = false;
    LPhase phase = LPhase::kInfo;
    int64_t deadline_ms = 0;
    int64_t accepted_epoch = 0;
    Zxid peer_last = 0;
    // SyncLimitCheck: proposals sent and not yet ACKed, oldest first.
    std::deque<std::pair<Zxid, int64_t>> unacked;
  };
  // The voters that ACKed one proposal (each at most once). Held inline for
  // up to kInline voters, with no allocation per proposal; larger
  // ensembles spill to a vector.
  class AckSet {
   public:
    void Insert(ServerId id) {
      for (uint8_t i = 0; i < n_; ++i) {
        if (inline_[i] == id) return;
      }
      if (std::find(more_.begin(), more_.end(), id) != more_.end()) return;
      if (n_ < kInline) {
        inline_[n_++] = id;
      } else {
        more_.push_back(id);
      }
    }
    size_t size() const { return n_ + more_.size(); }

   private:
    static constexpr uint8_t kInline = 7;
    std::array<ServerId, kInline> inline_{};
    uint8_t n_ = 0;
    std::vector<ServerId> more_;
  };
  struct Proposal {
    Zxid zxid = 0;
    std::string bytes;
    AckSet acks;  // voters only (ProcessAck and SelfAck add no one else)
  };
  struct PendingFsync {
    uint64_t token = 0;
    Zxid zxid = 0;
    uint64_t generation = 0;
  };

  // node.cc: shared plumbing.
  void GoLooking(const std::string& why);
  void Decide(const Vote& v);
  void SetRole(Role role);
  void Append(Zxid zxid, std::string bytes);
  void RequestFsync();
  void Commit(Zxid zxid);
  bool Logged(Zxid zxid) const;
  Zxid Floor(Zxid zxid) const;
  bool DiffAllowed(Zxid peer, Zxid through) const;
  void Send(ConnId conn, PacketType type, Zxid zxid, std::string data = {});
  bool IsParticipant(ServerId id) const;
  bool IsMember(ServerId id, bool observer) const;

  // leader.cc
  void BecomeLeader();
  void LeaderTick();
  void OnInfo(Learner& l, const QuorumPacket& p);
  void OnAckEpoch(Learner& l, const QuorumPacket& p);
  void OnNewLeaderAck(Learner& l, const QuorumPacket& p);
  void OnActivePacket(Learner& l, const QuorumPacket& p);
  void MaybeDecideEpoch();
  void MaybeFinishEpochAck();
  void MaybeFinishNewLeader();
  void SendLeaderInfo(Learner& l);
  void SyncLearner(Learner& l);
  void SendUpToDate(Learner& l);
  void ProcessAck(ServerId sid, Zxid zxid);
  void TryCommit();
  void SendDueSyncs();
  void SelfAck();
  void DropLearner(ConnId conn, const std::string& why);
  void SettleParked();
  void ExpireParked();
  void PingLearners();
  void SendProposal(Learner& l, const Proposal& p);
  void LearnerAcked(Learner& l, Zxid zxid);
  bool QuorumSynced() const;
  void LeaderFsyncDone();

  // learner.cc
  void BecomeLearner(ServerId leader);
  void LearnerTick();
  void OnLeaderInfo(const QuorumPacket& p);
  void OnSyncKind(const QuorumPacket& p);
  void OnSyncedPacket(const QuorumPacket& p);
  void OnProposal(const QuorumPacket& p);
  void OnCommit(Zxid zxid);
  void OnInform(const QuorumPacket& p);
  void OnNewLeader(const QuorumPacket& p);
  void OnUpToDate();
  void MaybeAckNewLeader();
  void SendAcks();
  void LearnerFail(const std::string& why);
  bool IsObserver() const { return !election_.IsVoter(config_.self); }

  Config config_;
  Election election_;
  int64_t now_ms_ = 0;
  Role role_ = Role::kLooking;
  Vote vote_;
  Ready ready_;
  Ready spare_;  // Recycle: cleared, becomes ready_ at the next TakeReady

  // Persistent state as the host holds it.
  int64_t accepted_epoch_ = 0;
  int64_t current_epoch_ = 0;
  std::deque<Zxid> log_;  // logged zxids after log_base_, ascending
  Zxid log_base_ = 0;
  Zxid committed_ = 0;
  Zxid diff_floor_ = 0;  // SetDiffFloor

  // Fsync bookkeeping (tokens complete in order).
  uint64_t next_token_ = 0;
  uint64_t generation_ = 0;  // bumped by TRUNC / SNAP: older fsyncs prove nothing
  bool unsynced_ = false;
  std::deque<PendingFsync> fsyncs_;
  Zxid durable_ = 0;

  // Leader.
  LeadPhase lead_phase_ = LeadPhase::kEpoch;
  int64_t lead_epoch_ = 0;
  int64_t summary_epoch_ = 0;  // leaderStateSummary
  Zxid history_end_ = 0;
  std::map<ConnId, Learner> learners_;
  // Learners that connected while we were still LOOKING (ZooKeeper has no
  // quorum listener then; theirs retry a refused connect): held, with the
  // first packet (FOLLOWERINFO / OBSERVERINFO), until we lead (adopted) or
  // follow (closed), at most initLimit ticks.
  struct Parked {
    int64_t since_ms = 0;
    std::optional<QuorumPacket> first;
  };
  std::map<ConnId, Parked> parked_;
  std::set<ServerId> connecting_, electing_, newleader_acks_;
  std::deque<Proposal> outstanding_;
  Zxid last_proposed_ = 0;
  std::deque<std::pair<Zxid, ConnId>> pending_syncs_;
  int64_t phase_deadline_ms_ = 0;
  int64_t next_ping_ms_ = 0;
  bool check_quorum_next_ping_ = false;

  // Learner.
  LearnPhase learn_phase_ = LearnPhase::kConnecting;
  ConnId leader_conn_ = 0;
  bool leader_is_aviary_ = false;
  int64_t connect_give_up_ms_ = 0;
  int64_t next_connect_ms_ = kNone;
  int64_t leader_deadline_ms_ = 0;
  int64_t new_epoch_ = 0;
  Zxid newleader_zxid_ = 0;
  Zxid newleader_log_end_ = 0;
  Zxid sync_target_ = 0;
  Zxid snap_zxid_ = 0;  // learner: the zxid of the SNAP this sync installs (0: DIFF / TRUNC)
  bool acks_enabled_ = false;
  std::deque<Zxid> unacked_;
  std::string touches_;
};

}  // namespace aviary::zab
