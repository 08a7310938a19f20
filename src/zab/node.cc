// zab::Node plumbing shared by every role: start, ticks, notifications,
// storage bookkeeping, the Ready batch.
#include "zab/node.h"

#include <fmt/core.h>

#include <algorithm>

#include "base/check.h"
#include "base/log.h"

namespace aviary::zab {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kLooking:
      return "LOOKING";
    case Role::kFollowing:
      return "FOLLOWING";
    case Role::kLeading:
      return "LEADING";
    case Role::kObserving:
      return "OBSERVING";
  }
  return "?";
}

void Ready::Clear() {
  accepted_epoch.reset();
  current_epoch.reset();
  storage.clear();
  notifications.clear();
  packets.clear();
  close.clear();
  connect_leader.reset();
  commit_through.reset();
  role.reset();
  to_host.clear();
  syncs_done = 0;
}

bool Ready::empty() const {
  return !accepted_epoch && !current_epoch && storage.empty() && notifications.empty() && packets.empty() &&
         close.empty() && !connect_leader && !commit_through && !role && to_host.empty() && syncs_done == 0;
}

Node::Node(Config config, const Bootstrap& boot) : config_(std::move(config)), election_(config_) {
  AV_CHECK(boot.current_epoch <= boot.accepted_epoch, "currentEpoch {} > acceptedEpoch {}", boot.current_epoch,
           boot.accepted_epoch);
  accepted_epoch_ = boot.accepted_epoch;
  current_epoch_ = boot.current_epoch;
  log_base_ = boot.log_base;
  for (Zxid z : boot.logged) {
    AV_CHECK(z > last_logged(), "bootstrap log not ascending at {:#x}", z);
    log_.push_back(z);
  }
  committed_ = std::min(boot.applied_zxid, last_logged());
  durable_ = last_logged();
}

void Node::Start(int64_t now_ms) {
  now_ms_ = now_ms;
  GoLooking("start");
}

bool Node::serving() const {
  if (role_ == Role::kLeading) return lead_phase_ == LeadPhase::kBroadcast;
  if (role_ == Role::kLooking) return false;
  return learn_phase_ == LearnPhase::kBroadcast;
}

Node::ZabState Node::zab_state() const {
  if (role_ == Role::kLooking) return ZabState::kElection;
  if (role_ == Role::kLeading) {
    if (lead_phase_ == LeadPhase::kBroadcast) return ZabState::kBroadcast;
    return lead_phase_ == LeadPhase::kNewLeaderAck ? ZabState::kSynchronization : ZabState::kDiscovery;
  }
  if (learn_phase_ == LearnPhase::kBroadcast) return ZabState::kBroadcast;
  return learn_phase_ <= LearnPhase::kLeaderInfo ? ZabState::kDiscovery : ZabState::kSynchronization;
}

void Node::SetRole(Role role) {
  role_ = role;
  ready_.role = role;
}

void Node::GoLooking(const std::string& why) {
  if (role_ != Role::kLooking || why == "start") {
    AV_LOG(kInfo, "zab {}: LOOKING ({})", config_.self, why);
  }
  for (const auto& [conn, l] : learners_) ready_.close.push_back(conn);
  learners_.clear();
  connecting_.clear();
  electing_.clear();
  newleader_acks_.clear();
  outstanding_.clear();
  pending_syncs_.clear();
  if (leader_conn_ != 0) ready_.close.push_back(leader_conn_);
  leader_conn_ = 0;
  unacked_.clear();
  acks_enabled_ = false;
  SetRole(Role::kLooking);
  election_.Start(now_ms_, last_logged(), current_epoch_, &ready_.notifications);
}

void Node::Decide(const Vote& v) {
  vote_ = v;
  if (v.leader == config_.self) {
    BecomeLeader();
  } else {
    BecomeLearner(v.leader);
  }
  SettleParked();
}

void Node::Tick(int64_t now_ms) {
  now_ms_ = std::max(now_ms_, now_ms);
  switch (role_) {
    case Role::kLooking:
      ExpireParked();
      if (auto v = election_.OnTick(now_ms_, &ready_.notifications)) Decide(*v);
      break;
    case Role::kLeading:
      LeaderTick();
      break;
    case Role::kFollowing:
    case Role::kObserving:
      LearnerTick();
      break;
  }
}

void Node::OnNotification(ServerId from, const Notification& n) {
  if (role_ == Role::kLooking) {
    if (!election_.IsVoter(from)) {
      // WorkerReceiver answers non-voters (observers) with our current vote.
      ready_.notifications.push_back(
          {from, Election::Answer(election_.proposal(), PeerState::kLooking, config_.config_text)});
      return;
    }
    if (auto v = election_.OnNotification(from, n, now_ms_, &ready_.notifications)) Decide(*v);
    return;
  }
  // A voter answers observers and LOOKING voters with the established vote.
  // An observer answers nobody: voters ignore its votes, and its answers to
  // a voter's answers would loop forever (found by the simulator).
  if (IsObserver()) return;
  if (!election_.IsVoter(from) || n.state == PeerState::kLooking) {
    PeerState state = role_ == Role::kLeading     ? PeerState::kLeading
                      : role_ == Role::kFollowing ? PeerState::kFollowing
                                                  : PeerState::kObserving;
    ready_.notifications.push_back({from, Election::Answer(vote_, state, config_.config_text)});
  }
}

void Node::OnPeerChannel(ServerId sid, bool up) {
  auto v = election_.OnPeerChannel(sid, up);
  if (v && role_ == Role::kLooking) Decide(*v);
}

void Node::Append(Zxid zxid, std::string bytes) {
  AV_CHECK(zxid > last_logged(), "append {:#x} after {:#x}", zxid, last_logged());
  log_.push_back(zxid);
  if (log_.size() > config_.max_log_index) {
    log_base_ = log_.front();
    log_.pop_front();
  }
  ready_.storage.push_back({StorageOp::Kind::kAppend, zxid, std::move(bytes), 0});
  unsynced_ = true;
}

void Node::RequestFsync() {
  if (!unsynced_) return;
  unsynced_ = false;
  uint64_t token = ++next_token_;
  fsyncs_.push_back({token, last_logged(), generation_});
  ready_.storage.push_back({StorageOp::Kind::kFsync, 0, {}, token});
}

void Node::OnFsyncDone(uint64_t token) {
  while (!fsyncs_.empty() && fsyncs_.front().token <= token) {
    const PendingFsync& f = fsyncs_.front();
    if (f.generation == generation_) durable_ = std::max(durable_, std::min(f.zxid, last_logged()));
    fsyncs_.pop_front();
  }
  if (role_ == Role::kLeading) LeaderFsyncDone();
  if (role_ == Role::kFollowing || role_ == Role::kObserving) {
    MaybeAckNewLeader();
    SendAcks();
  }
}

void Node::Commit(Zxid zxid) {
  if (zxid <= committed_) return;
  AV_CHECK(zxid <= last_logged(), "commit {:#x} beyond the log's {:#x}", zxid, last_logged());
  committed_ = zxid;
  ready_.commit_through = zxid;
}

bool Node::Logged(Zxid zxid) const {
  if (zxid == log_base_) return true;
  return std::binary_search(log_.begin(), log_.end(), zxid);
}

// The largest zxid we hold that is <= zxid (log_base_ if none).
Zxid Node::Floor(Zxid zxid) const {
  auto it = std::upper_bound(log_.begin(), log_.end(), zxid);
  if (it == log_.begin()) return log_base_;
  return *std::prev(it);
}

// ZooKeeper's LearnerHandler.syncFollower: a learner within the committed
// log (the last commitLogCount txns) is synced from it; one further back
// only if the size rule lets the txn log serve it (diff_floor_).
bool Node::DiffAllowed(Zxid peer, Zxid through) const {
  if (peer >= diff_floor_) return true;
  const auto missed =
      std::upper_bound(log_.begin(), log_.end(), through) - std::upper_bound(log_.begin(), log_.end(), peer);
  return static_cast<size_t>(missed) <= config_.commit_log_count;
}

void Node::TrimLog(Zxid upto) {
  AV_CHECK(upto <= committed_, "trim {:#x} beyond the commit point {:#x}", upto, committed_);
  while (!log_.empty() && log_.front() <= upto) log_.pop_front();
  log_base_ = std::max(log_base_, upto);
}

void Node::Send(ConnId conn, PacketType type, Zxid zxid, std::string data) {
  Outgoing out;
  out.conn = conn;
  out.packet.type = type;
  out.packet.zxid = zxid;
  out.packet.data = std::move(data);
  ready_.packets.push_back(std::move(out));
}

bool Node::IsParticipant(ServerId id) const { return election_.IsVoter(id); }

bool Node::IsMember(ServerId id, bool observer) const {
  for (const Member& m : config_.members) {
    if (m.id == id) return m.observer == observer;
  }
  return false;
}

Ready Node::TakeReady() {
  RequestFsync();  // group commit: one fsync for every append of this batch
  Ready out = std::move(ready_);
  ready_ = std::move(spare_);  // empty: cleared by Recycle, or never used
  spare_ = Ready{};
  return out;
}

void Node::Recycle(Ready&& done) {
  done.Clear();
  spare_ = std::move(done);
}

std::string Node::Describe() const {
  std::string s = fmt::format("{} acc={} cur={} last={:#x} committed={:#x}", RoleName(role_), accepted_epoch_,
                              current_epoch_, last_logged(), committed_);
  if (role_ != Role::kLooking) s += fmt::format(" leader={}", vote_.leader);
  if (serving()) s += " serving";
  return s;
}

}  // namespace aviary::zab
