// Follower and observer: Learner.registerWithLeader (FOLLOWERINFO /
// OBSERVERINFO, LEADERINFO, ACKEPOCH and the acceptedEpoch rule),
// Learner.syncWithLeader (DIFF / TRUNC / SNAP, proposals and commits in
// sync, NEWLEADER acknowledged once durable, UPTODATE), then broadcast
// (Follower.processPacket, Observer's INFORM).
#include <fmt/core.h>

#include "base/log.h"
#include "zab/node.h"
#include "zab/payload.h"

namespace aviary::zab {

void Node::BecomeLearner(ServerId leader) {
  SetRole(IsObserver() ? Role::kObserving : Role::kFollowing);
  learn_phase_ = LearnPhase::kConnecting;
  leader_conn_ = 0;
  connect_give_up_ms_ = now_ms_ + config_.init_limit * config_.tick_ms;
  next_connect_ms_ = kNone;
  ready_.connect_leader = leader;
  sync_target_ = 0;
  snap_zxid_ = 0;
  acks_enabled_ = false;
  unacked_.clear();
}

void Node::LearnerFail(const std::string& why) { GoLooking(why); }

void Node::OnLeaderConnected(ConnId conn) {
  bool learning = role_ == Role::kFollowing || role_ == Role::kObserving;
  if (!learning || learn_phase_ != LearnPhase::kConnecting || leader_conn_ != 0) {
    ready_.close.push_back(conn);
    return;
  }
  leader_conn_ = conn;
  learn_phase_ = LearnPhase::kLeaderInfo;
  leader_deadline_ms_ = now_ms_ + config_.init_limit * config_.tick_ms;
  quorum::LearnerInfo info{config_.self, kProtocolVersion, 0};
  Send(conn, IsObserver() ? PacketType::kObserverInfo : PacketType::kFollowerInfo, quorum::MakeZxid(accepted_epoch_, 0),
       EncodeLearnerInfo(info));
}

void Node::OnLeaderConnectFailed() {
  bool learning = role_ == Role::kFollowing || role_ == Role::kObserving;
  if (!learning || learn_phase_ != LearnPhase::kConnecting) return;
  if (now_ms_ >= connect_give_up_ms_) return LearnerFail("cannot connect to the leader");
  next_connect_ms_ = now_ms_ + config_.learner_connect_retry_ms;
}

void Node::OnLeaderDisconnected(ConnId conn) {
  if (conn != leader_conn_ || leader_conn_ == 0) return;
  leader_conn_ = 0;
  // Closed before LEADERINFO: the server we elected may not lead yet (or a
  // ZooKeeper one refused us); retry within initLimit, as a refused connect.
  if (learn_phase_ == LearnPhase::kLeaderInfo && now_ms_ < connect_give_up_ms_) {
    learn_phase_ = LearnPhase::kConnecting;
    next_connect_ms_ = now_ms_ + config_.learner_connect_retry_ms;
    return;
  }
  LearnerFail("leader connection lost");
}

void Node::LearnerTick() {
  if (learn_phase_ == LearnPhase::kConnecting) {
    if (now_ms_ >= connect_give_up_ms_) return LearnerFail("no leader within initLimit");
    if (next_connect_ms_ != kNone && now_ms_ >= next_connect_ms_) {
      next_connect_ms_ = kNone;
      ready_.connect_leader = vote_.leader;
    }
    return;
  }
  if (now_ms_ >= leader_deadline_ms_) LearnerFail("leader silent past the limit");
}

void Node::OnLeaderPacket(ConnId conn, const QuorumPacket& p) {
  bool learning = role_ == Role::kFollowing || role_ == Role::kObserving;
  if (!learning || conn != leader_conn_ || leader_conn_ == 0) return;
  int64_t limit = learn_phase_ >= LearnPhase::kUpToDate ? config_.sync_limit : config_.init_limit;
  leader_deadline_ms_ = now_ms_ + limit * config_.tick_ms;
  switch (learn_phase_) {
    case LearnPhase::kConnecting:
      return;
    case LearnPhase::kLeaderInfo:
      return OnLeaderInfo(p);
    case LearnPhase::kSyncKind:
      return OnSyncKind(p);
    default:
      return OnSyncedPacket(p);
  }
}

void Node::OnLeaderInfo(const QuorumPacket& p) {
  if (p.type != PacketType::kLeaderInfo) return LearnerFail("expected LEADERINFO");
  int64_t epoch = quorum::EpochOf(p.zxid);
  int32_t ack_epoch = -1;
  if (epoch > accepted_epoch_) {
    ack_epoch = static_cast<int32_t>(current_epoch_);
    accepted_epoch_ = epoch;
    ready_.accepted_epoch = epoch;  // persisted before ACKEPOCH leaves
  } else if (epoch < accepted_epoch_) {
    return LearnerFail(fmt::format("leader's epoch {} < accepted epoch {}", epoch, accepted_epoch_));
  }
  new_epoch_ = epoch;
  leader_is_aviary_ = LeaderInfoFromAviary(p.data);
  Send(leader_conn_, PacketType::kAckEpoch, last_logged(), EncodeInt32(ack_epoch));
  learn_phase_ = LearnPhase::kSyncKind;
}

void Node::OnSyncKind(const QuorumPacket& p) {
  Zxid z = p.zxid;
  switch (p.type) {
    case PacketType::kDiff:
      snap_zxid_ = 0;
      break;
    case PacketType::kTrunc:
      if (z < committed_) return LearnerFail(fmt::format("TRUNC to {:#x} below our commit point", z));
      if (!Logged(z)) return LearnerFail(fmt::format("TRUNC to {:#x}, a zxid we do not hold", z));
      while (!log_.empty() && log_.back() > z) log_.pop_back();
      durable_ = std::min(durable_, z);
      ++generation_;  // fsyncs already requested no longer prove anything: ask again
      if (durable_ < z) unsynced_ = true;
      ready_.storage.push_back({StorageOp::Kind::kTruncate, z, {}, 0});
      snap_zxid_ = 0;
      break;
    case PacketType::kSnap:
      log_.clear();
      log_base_ = z;
      committed_ = z;
      durable_ = z;
      ++generation_;
      unsynced_ = false;
      ready_.storage.push_back({StorageOp::Kind::kInstallSnapshot, z, p.data, 0});
      snap_zxid_ = z;
      break;
    default:
      return LearnerFail("expected DIFF, TRUNC or SNAP");
  }
  sync_target_ = z;
  learn_phase_ = LearnPhase::kSyncBody;
}

void Node::OnSyncedPacket(const QuorumPacket& p) {
  switch (p.type) {
    case PacketType::kProposal:
      return OnProposal(p);
    case PacketType::kCommit:
      return OnCommit(p.zxid);
    case PacketType::kInform:
      return OnInform(p);
    case PacketType::kNewLeader:
      return OnNewLeader(p);
    case PacketType::kUpToDate:
      if (learn_phase_ != LearnPhase::kUpToDate) return LearnerFail("UPTODATE out of order");
      return OnUpToDate();
    case PacketType::kPing:
      // Learner.syncWithLeader ignores PINGs until UPTODATE: a ZooKeeper
      // leader that sent NEWLEADER reads the next packet as its ACK, so a
      // PING answered while the NEWLEADER fsync runs would end the sync.
      if (learn_phase_ != LearnPhase::kBroadcast) return;
      Send(leader_conn_, PacketType::kPing, p.zxid, std::move(touches_));
      touches_.clear();
      return;
    case PacketType::kSync:
      ++ready_.syncs_done;
      return;
    default:
      ready_.to_host.push_back({vote_.leader, leader_conn_, p});
      return;
  }
}

void Node::OnProposal(const QuorumPacket& p) {
  Zxid last = last_logged();
  if (p.zxid <= last && learn_phase_ == LearnPhase::kSyncBody && snap_zxid_ != 0 && last == snap_zxid_ &&
      p.zxid <= snap_zxid_) {
    // A ZooKeeper leader's SNAP is fuzzy: it queues the proposals in flight
    // (LearnerHandler.syncFollower -> startForwarding) before it serializes
    // its tree, and sends as the SNAP's zxid the tree's last applied one,
    // which can be past some of them (seen under load: PROPOSAL 0x..65d
    // after SNAP 0x..65d). The snapshot holds them already; ZooKeeper's
    // learner logs them again and ACKs each, and that leader drops a learner
    // whose ACK of a proposal it sent is older than syncLimit: ACK (after
    // NEWLEADER, as every proposal of the sync), do not log.
    if (unacked_.size() >= config_.max_unacked_proposals) return LearnerFail("too many proposals in flight");
    if (!IsObserver()) unacked_.push_back(p.zxid);
    return;
  }
  if (p.zxid <= last) return LearnerFail(fmt::format("PROPOSAL {:#x} not after {:#x}", p.zxid, last));
  if (quorum::EpochOf(p.zxid) == quorum::EpochOf(last) && p.zxid != last + 1) {
    return LearnerFail(fmt::format("PROPOSAL {:#x} leaves a gap after {:#x}", p.zxid, last));
  }
  // Not the leader's max_outstanding_proposals: that bounds what is not yet
  // committed, and a follower outside the committing quorum may lag further
  // behind (the leader's syncLimit check is what drops a slow follower).
  if (unacked_.size() >= config_.max_unacked_proposals) return LearnerFail("too many proposals in flight");
  Append(p.zxid, p.data);
  if (!IsObserver()) unacked_.push_back(p.zxid);
}

void Node::OnCommit(Zxid zxid) {
  if (zxid <= committed_) return;
  if (zxid > last_logged()) return LearnerFail(fmt::format("COMMIT {:#x} of a txn we do not hold", zxid));
  if (learn_phase_ != LearnPhase::kBroadcast) {
    sync_target_ = std::max(sync_target_, zxid);
    return;
  }
  Commit(zxid);
}

void Node::OnInform(const QuorumPacket& p) {
  if (p.zxid <= last_logged()) {
    if (p.zxid <= committed_) return;
    return LearnerFail(fmt::format("INFORM {:#x} not after {:#x}", p.zxid, last_logged()));
  }
  Append(p.zxid, p.data);
  OnCommit(p.zxid);
}

// NEWLEADER: the leader's history is ours. Persist it, then the epoch, and
// only then acknowledge (ZOOKEEPER-3911: never ACK what a crash could lose).
void Node::OnNewLeader(const QuorumPacket& p) {
  if (learn_phase_ != LearnPhase::kSyncBody) return LearnerFail("NEWLEADER out of order");
  if (quorum::EpochOf(p.zxid) != new_epoch_) return LearnerFail("NEWLEADER of another epoch");
  newleader_zxid_ = p.zxid;
  newleader_log_end_ = last_logged();
  learn_phase_ = LearnPhase::kNewLeaderFsync;
  RequestFsync();
  MaybeAckNewLeader();
}

void Node::MaybeAckNewLeader() {
  if (learn_phase_ != LearnPhase::kNewLeaderFsync || durable_ < newleader_log_end_) return;
  current_epoch_ = new_epoch_;
  ready_.current_epoch = current_epoch_;
  Send(leader_conn_, PacketType::kAck, newleader_zxid_);
  learn_phase_ = LearnPhase::kUpToDate;
  acks_enabled_ = !IsObserver();
  SendAcks();
}

void Node::SendAcks() {
  if (!acks_enabled_ || leader_conn_ == 0) return;
  while (!unacked_.empty() && unacked_.front() <= durable_) {
    Send(leader_conn_, PacketType::kAck, unacked_.front());
    unacked_.pop_front();
  }
}

void Node::OnUpToDate() {
  learn_phase_ = LearnPhase::kBroadcast;
  vote_.peer_epoch = new_epoch_;  // updateElectionVote (ZOOKEEPER-1732)
  Commit(std::min(sync_target_, last_logged()));
  Send(leader_conn_, PacketType::kAck, quorum::MakeZxid(new_epoch_, 0));
  AV_LOG(kInfo, "zab {}: {} leader {} epoch {} at {:#x}", config_.self, RoleName(role_), vote_.leader, new_epoch_,
         committed_);
}

bool Node::Forward(QuorumPacket request) {
  if (!serving() || role_ == Role::kLeading) return false;
  ready_.packets.push_back({leader_conn_, Outgoing::Kind::kPacket, std::move(request), 0, 0});
  return true;
}

}  // namespace aviary::zab
