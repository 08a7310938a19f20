// The leader: discovery (Leader.getEpochToPropose / waitForEpochAck),
// synchronisation (LearnerHandler.syncFollower), broadcast (propose, ACK
// quorum, in-order COMMIT, INFORM to observers) and the syncLimit check.
#include <fmt/core.h>

#include "base/check.h"
#include "base/log.h"
#include "zab/node.h"
#include "zab/payload.h"
#include "zab/sync_plan.h"

namespace aviary::zab {

void Node::BecomeLeader() {
  SetRole(Role::kLeading);
  lead_phase_ = LeadPhase::kEpoch;
  lead_epoch_ = accepted_epoch_ + 1;
  summary_epoch_ = current_epoch_;
  history_end_ = last_logged();
  last_proposed_ = history_end_;
  connecting_ = {config_.self};
  electing_ = {config_.self};
  newleader_acks_.clear();
  phase_deadline_ms_ = now_ms_ + config_.init_limit * config_.tick_ms;
  next_ping_ms_ = now_ms_ + config_.tick_ms / 2;
  RequestFsync();  // our own history must be durable before we ACK NEWLEADER
  MaybeDecideEpoch();
}

void Node::MaybeDecideEpoch() {
  if (lead_phase_ != LeadPhase::kEpoch || !election_.HasQuorum(connecting_)) return;
  accepted_epoch_ = lead_epoch_;
  ready_.accepted_epoch = accepted_epoch_;
  lead_phase_ = LeadPhase::kEpochAck;
  phase_deadline_ms_ = now_ms_ + config_.init_limit * config_.tick_ms;
  for (auto& [conn, l] : learners_) {
    if (l.phase == LPhase::kEpoch) SendLeaderInfo(l);
  }
  MaybeFinishEpochAck();
}

void Node::SendLeaderInfo(Learner& l) {
  Send(l.conn, PacketType::kLeaderInfo, quorum::MakeZxid(lead_epoch_, 0), EncodeLeaderInfo());
  l.phase = LPhase::kAckEpoch;
}

// The new epoch becomes our currentEpoch only once our own history is
// durable: a server whose currentEpoch is newer than its durable log would
// win the next election over servers holding committed txns it lost in a
// crash (found by the simulator: seed 290, power loss during a disk stall).
void Node::MaybeFinishEpochAck() {
  if (lead_phase_ != LeadPhase::kEpochAck || !election_.HasQuorum(electing_)) return;
  if (durable_ < history_end_) return;  // LeaderFsyncDone calls again
  current_epoch_ = lead_epoch_;
  ready_.current_epoch = current_epoch_;
  last_proposed_ = quorum::MakeZxid(lead_epoch_, 0);
  lead_phase_ = LeadPhase::kNewLeaderAck;
  phase_deadline_ms_ = now_ms_ + config_.init_limit * config_.tick_ms;
  for (auto& [conn, l] : learners_) {
    if (l.phase == LPhase::kEpochQuorum) SyncLearner(l);
  }
  LeaderFsyncDone();  // our own NEWLEADER ack, if our history is durable
}

void Node::OnLearnerConnected(ConnId conn) {
  if (role_ == Role::kLooking && parked_.size() < 2 * config_.members.size()) {
    parked_[conn].since_ms = now_ms_;
    return;
  }
  if (role_ != Role::kLeading || learners_.size() >= 2 * config_.members.size()) {
    ready_.close.push_back(conn);
    return;
  }
  Learner l;
  l.conn = conn;
  l.deadline_ms = now_ms_ + (config_.init_limit + config_.sync_limit) * config_.tick_ms;
  learners_[conn] = l;
}

void Node::OnLearnerDisconnected(ConnId conn) {
  learners_.erase(conn);
  parked_.erase(conn);
}

// Elected: learners that connected during the election are ours now; any
// other role closes them (they retry, and find the leader).
void Node::SettleParked() {
  std::map<ConnId, Parked> parked;
  parked.swap(parked_);
  for (auto& [conn, p] : parked) {
    if (role_ != Role::kLeading) {
      ready_.close.push_back(conn);
      continue;
    }
    OnLearnerConnected(conn);
    if (p.first) OnLearnerPacket(conn, *p.first);
  }
}

// Still LOOKING: parked learners past initLimit are closed.
void Node::ExpireParked() {
  for (auto it = parked_.begin(); it != parked_.end();) {
    if (now_ms_ - it->second.since_ms < config_.init_limit * config_.tick_ms) {
      ++it;
      continue;
    }
    ready_.close.push_back(it->first);
    it = parked_.erase(it);
  }
}

void Node::DropLearner(ConnId conn, const std::string& why) {
  auto it = learners_.find(conn);
  if (it == learners_.end()) return;
  AV_LOG(kInfo, "zab {}: closing learner {} ({})", config_.self, it->second.sid, why);
  learners_.erase(it);
  ready_.close.push_back(conn);
}

void Node::OnLearnerPacket(ConnId conn, const QuorumPacket& p) {
  if (auto pk = parked_.find(conn); pk != parked_.end()) {
    if (!pk->second.first) {
      pk->second.first = p;
      return;
    }
    ready_.close.push_back(conn);  // only the registration may come before LEADERINFO
    parked_.erase(pk);
    return;
  }
  auto it = learners_.find(conn);
  if (role_ != Role::kLeading || it == learners_.end()) return;
  Learner& l = it->second;
  int64_t limit = l.phase >= LPhase::kNewLeaderAcked ? config_.sync_limit : config_.init_limit;
  l.deadline_ms = now_ms_ + limit * config_.tick_ms;
  switch (l.phase) {
    case LPhase::kInfo:
      return OnInfo(l, p);
    case LPhase::kEpoch:
    case LPhase::kEpochQuorum:
      if (p.type != PacketType::kPing) DropLearner(conn, "packet before LEADERINFO/sync");
      return;
    case LPhase::kAckEpoch:
      return OnAckEpoch(l, p);
    case LPhase::kSynced:
      return OnNewLeaderAck(l, p);
    case LPhase::kNewLeaderAcked:
    case LPhase::kActive:
      return OnActivePacket(l, p);
  }
}

void Node::OnInfo(Learner& l, const QuorumPacket& p) {
  bool observer = p.type == PacketType::kObserverInfo;
  auto info = DecodeLearnerInfo(p.data);
  if ((p.type != PacketType::kFollowerInfo && !observer) || !info) return DropLearner(l.conn, "bad FOLLOWERINFO");
  if (info->protocol_version < kProtocolVersion) return DropLearner(l.conn, "pre-ZAB-1.0 learner");
  if (!IsMember(info->server_id, observer)) return DropLearner(l.conn, "not a member of that type");
  for (auto& [conn, other] : learners_) {
    if (conn != l.conn && other.sid == info->server_id) {
      DropLearner(conn, "replaced by a new connection");
      break;
    }
  }
  l.sid = info->server_id;
  l.observer = observer;
  l.accepted_epoch = quorum::EpochOf(p.zxid);
  l.phase = LPhase::kEpoch;
  if (lead_phase_ != LeadPhase::kEpoch) return SendLeaderInfo(l);
  if (l.accepted_epoch >= lead_epoch_) lead_epoch_ = l.accepted_epoch + 1;
  if (!observer) connecting_.insert(l.sid);
  MaybeDecideEpoch();
}

void Node::OnAckEpoch(Learner& l, const QuorumPacket& p) {
  auto epoch = DecodeInt32(p.data);
  if (p.type != PacketType::kAckEpoch || !epoch) return DropLearner(l.conn, "expected ACKEPOCH");
  l.peer_last = p.zxid;
  if (lead_phase_ != LeadPhase::kEpochAck) return SyncLearner(l);
  if (*epoch != -1) {
    bool ahead = *epoch > summary_epoch_ || (*epoch == summary_epoch_ && p.zxid > history_end_);
    if (ahead) return DropLearner(l.conn, "follower is ahead of the leader");
    if (!l.observer) electing_.insert(l.sid);
  }
  l.phase = LPhase::kEpochQuorum;
  MaybeFinishEpochAck();
}

// LearnerHandler.syncFollower + startForwarding, then NEWLEADER.
void Node::SyncLearner(Learner& l) {
  bool broadcasting = lead_phase_ == LeadPhase::kBroadcast;
  Zxid through = broadcasting ? committed_ : history_end_;
  SyncPlan plan = PlanSync(l.peer_last, through, committed_, log_base_, Logged(l.peer_last), Floor(l.peer_last),
                           DiffAllowed(l.peer_last, through));
  AV_LOG(kInfo, "zab {}: syncing learner {} by {} {:#x} (it holds {:#x})", config_.self, l.sid, SyncKindName(plan.kind),
         plan.zxid, l.peer_last);
  for (Outgoing& out : PlanPackets(plan, l.conn)) ready_.packets.push_back(std::move(out));
  Send(l.conn, PacketType::kNewLeader, quorum::MakeZxid(lead_epoch_, 0), config_.config_text);
  // Proposals still outstanding go after NEWLEADER, so their COMMITs do too:
  // ZooKeeper 3.8's learner forgets the proposals it got before NEWLEADER
  // once it logs them there, and a COMMIT of one of those before UPTODATE
  // fails its sync (a NullPointerException in Learner.syncWithLeader).
  if (broadcasting && !l.observer) {
    for (const Proposal& prop : outstanding_) SendProposal(l, prop);
  }
  l.phase = LPhase::kSynced;
}

void Node::OnNewLeaderAck(Learner& l, const QuorumPacket& p) {
  if (p.type == PacketType::kPing) return;
  if (p.type != PacketType::kAck) return DropLearner(l.conn, "expected ACK of NEWLEADER");
  if (quorum::CounterOf(p.zxid) != 0) return LearnerAcked(l, p.zxid);
  if (p.zxid != quorum::MakeZxid(lead_epoch_, 0)) return DropLearner(l.conn, "NEWLEADER ACK of another epoch");
  l.phase = LPhase::kNewLeaderAcked;
  if (lead_phase_ == LeadPhase::kBroadcast) return SendUpToDate(l);
  if (!l.observer) newleader_acks_.insert(l.sid);
  MaybeFinishNewLeader();
}

void Node::LeaderFsyncDone() {
  MaybeFinishEpochAck();
  if (lead_phase_ == LeadPhase::kNewLeaderAck && durable_ >= history_end_) {
    newleader_acks_.insert(config_.self);
    MaybeFinishNewLeader();
  }
  if (lead_phase_ == LeadPhase::kBroadcast) SelfAck();
}

void Node::MaybeFinishNewLeader() {
  if (lead_phase_ != LeadPhase::kNewLeaderAck || !election_.HasQuorum(newleader_acks_)) return;
  AV_LOG(kInfo, "zab {}: leading epoch {} from {:#x}", config_.self, lead_epoch_, history_end_);
  lead_phase_ = LeadPhase::kBroadcast;
  check_quorum_next_ping_ = false;
  // updateElectionVote (ZOOKEEPER-1732): every member reports the same
  // (leader, peer epoch), so a joining server can find a quorum of them.
  vote_.peer_epoch = lead_epoch_;
  Commit(history_end_);
  for (auto& [conn, l] : learners_) {
    if (l.phase == LPhase::kNewLeaderAcked) SendUpToDate(l);
  }
}

void Node::SendUpToDate(Learner& l) {
  Send(l.conn, PacketType::kUpToDate, 0);
  l.phase = LPhase::kActive;
}

void Node::OnActivePacket(Learner& l, const QuorumPacket& p) {
  switch (p.type) {
    case PacketType::kAck:
      return LearnerAcked(l, p.zxid);
    case PacketType::kSync:
      if (outstanding_.empty()) return Send(l.conn, PacketType::kSync, 0);
      // Never dropped silently (its client would wait forever): a learner
      // past the bound is closed, and its clients reconnect.
      if (pending_syncs_.size() >= config_.max_pending_syncs) return DropLearner(l.conn, "too many syncs pending");
      pending_syncs_.push_back({last_proposed_, l.conn});
      return;
    case PacketType::kPing:
      if (p.data.empty()) return;
      [[fallthrough]];
    case PacketType::kRequest:
    case PacketType::kRevalidate:
      if (ready_.to_host.size() < config_.max_learner_requests) ready_.to_host.push_back({l.sid, l.conn, p});
      return;
    default:
      return;  // LearnerHandler logs and ignores unexpected packets
  }
}

ProposeStatus Node::Propose(Zxid zxid, std::string bytes) {
  if (role_ != Role::kLeading || lead_phase_ != LeadPhase::kBroadcast) return ProposeStatus::kNotLeader;
  if (outstanding_.size() >= config_.max_outstanding_proposals) return ProposeStatus::kBusy;
  if (zxid != NextZxid()) return ProposeStatus::kZxidMismatch;
  if (quorum::CounterOf(zxid) == 0xffffffffLL) {
    // Leader.propose: the counter would roll over; a new epoch starts.
    GoLooking("zxid counter exhausted");
    return ProposeStatus::kEpochExhausted;
  }
  Append(zxid, config_.leader_append_bytes ? bytes : std::string());
  last_proposed_ = zxid;
  outstanding_.push_back({zxid, std::move(bytes), {}});
  for (auto& [conn, l] : learners_) {
    if (!l.observer && l.phase >= LPhase::kSynced) SendProposal(l, outstanding_.back());
  }
  return ProposeStatus::kOk;
}

void Node::ProcessAck(ServerId sid, Zxid zxid) {
  if (!IsParticipant(sid) || quorum::CounterOf(zxid) == 0 || zxid <= committed_ || outstanding_.empty()) return;
  int64_t index = zxid - outstanding_.front().zxid;
  if (index < 0 || index >= static_cast<int64_t>(outstanding_.size())) return;
  outstanding_[index].acks.Insert(sid);
  TryCommit();
}

void Node::SelfAck() {
  for (Proposal& p : outstanding_) {
    if (p.zxid > durable_) break;
    p.acks.Insert(config_.self);  // the leader is a voter (only voters are elected)
  }
  TryCommit();
}

// Leader.tryToCommit: in zxid order, each at a quorum of ACKs.
void Node::TryCommit() {
  while (!outstanding_.empty() && election_.HasQuorumOf(outstanding_.front().acks.size())) {
    Proposal p = std::move(outstanding_.front());
    outstanding_.pop_front();
    Commit(p.zxid);
    for (auto& [conn, l] : learners_) {
      if (l.phase < LPhase::kSynced) continue;
      if (l.observer) {
        Send(conn, PacketType::kInform, p.zxid, p.bytes);
      } else {
        Send(conn, PacketType::kCommit, p.zxid);
      }
    }
    SendDueSyncs();  // right after the COMMIT they waited for, before later ones
  }
  SendDueSyncs();
}

// Leader.processSync / sendSync: a learner's SYNC leaves once every proposal
// outstanding when its sync arrived has committed (FIFO, as they arrived).
void Node::SendDueSyncs() {
  while (!pending_syncs_.empty() && (outstanding_.empty() || pending_syncs_.front().first <= committed_)) {
    if (learners_.count(pending_syncs_.front().second)) Send(pending_syncs_.front().second, PacketType::kSync, 0);
    pending_syncs_.pop_front();
  }
}

bool Node::SendToLearner(ServerId sid, QuorumPacket p) {
  for (auto& [conn, l] : learners_) {
    if (l.sid == sid && l.phase >= LPhase::kSynced) {
      ready_.packets.push_back({conn, Outgoing::Kind::kPacket, std::move(p), 0, 0});
      return true;
    }
  }
  return false;
}

void Node::SendProposal(Learner& l, const Proposal& p) {
  Send(l.conn, PacketType::kProposal, p.zxid, p.bytes);
  // Bounded: a learner this far behind fails the syncLimit check long before.
  if (l.unacked.size() < config_.max_unacked_proposals) l.unacked.push_back({p.zxid, now_ms_});
}

void Node::OnSnapSent(ConnId conn) {
  auto it = learners_.find(conn);
  if (it == learners_.end()) return;
  for (auto& [zxid, sent_ms] : it->second.unacked) sent_ms = now_ms_;
}

void Node::LearnerAcked(Learner& l, Zxid zxid) {
  while (!l.unacked.empty() && l.unacked.front().first <= zxid) l.unacked.pop_front();
  ProcessAck(l.sid, zxid);
}

// LearnerHandler.ping: a learner whose oldest unACKed proposal is older than
// syncLimit ticks is closed (SyncLimitCheck), else it gets PING(lastProposed).
void Node::PingLearners() {
  std::vector<ConnId> slow;
  for (auto& [conn, l] : learners_) {
    if (l.phase < LPhase::kSynced) continue;
    if (!l.unacked.empty() && now_ms_ - l.unacked.front().second > config_.sync_limit * config_.tick_ms) {
      slow.push_back(conn);
      continue;
    }
    Send(conn, PacketType::kPing, last_proposed_);
  }
  for (ConnId conn : slow) DropLearner(conn, "proposal not ACKed within syncLimit");
}

// Leader.lead's loop: a learner counts as synced while it was heard from
// within its deadline (syncLimit ticks once it acknowledged NEWLEADER).
bool Node::QuorumSynced() const {
  std::set<ServerId> synced = {config_.self};
  for (const auto& [conn, l] : learners_) {
    if (l.phase >= LPhase::kSynced && l.deadline_ms > now_ms_) synced.insert(l.sid);
  }
  return election_.HasQuorum(synced);
}

void Node::LeaderTick() {
  if (lead_phase_ != LeadPhase::kBroadcast && now_ms_ >= phase_deadline_ms_) {
    return GoLooking(fmt::format("no quorum within initLimit (phase {})", static_cast<int>(lead_phase_)));
  }
  std::vector<ConnId> late;
  for (const auto& [conn, l] : learners_) {
    if (now_ms_ >= l.deadline_ms) late.push_back(conn);
  }
  for (ConnId conn : late) DropLearner(conn, "silent past its deadline");
  if (now_ms_ < next_ping_ms_) return;
  next_ping_ms_ = now_ms_ + config_.tick_ms / 2;
  if (lead_phase_ == LeadPhase::kBroadcast) {
    // Every other half-tick (Leader's tickSkip) the synced quorum is checked.
    if (check_quorum_next_ping_ && !QuorumSynced()) return GoLooking("not sufficient followers synced");
    check_quorum_next_ping_ = !check_quorum_next_ping_;
  }
  PingLearners();
}

size_t Node::synced_follower_count() const {
  size_t n = 0;
  for (const auto& [conn, l] : learners_) n += !l.observer && l.phase == LPhase::kActive;
  return n;
}

size_t Node::synced_observer_count() const {
  size_t n = 0;
  for (const auto& [conn, l] : learners_) n += l.observer && l.phase == LPhase::kActive;
  return n;
}

}  // namespace aviary::zab
