#include "zab/election.h"

#include <algorithm>

namespace aviary::zab {
namespace {

// Vote.equals: LOOKING votes match on all four fields; votes of established
// servers match on leader and peer epoch.
bool SameVote(const Vote& a, const Vote& b) {
  if (a.state == PeerState::kLooking || b.state == PeerState::kLooking) {
    return a.leader == b.leader && a.zxid == b.zxid && a.election_epoch == b.election_epoch &&
           a.peer_epoch == b.peer_epoch;
  }
  return a.leader == b.leader && a.peer_epoch == b.peer_epoch;
}

}  // namespace

Election::Election(const Config& config) : config_(config) {
  for (const Member& m : config.members) {
    if (!m.observer) voters_.insert(m.id);
  }
}

bool Election::HasQuorum(const std::set<ServerId>& ids) const {
  size_t n = 0;
  for (ServerId id : ids) n += voters_.count(id);
  return n * 2 > voters_.size();
}

// totalOrderPredicate: only voters can win; then epoch, zxid, id.
bool Election::Better(ServerId id, Zxid zxid, int64_t epoch, ServerId cur_id, Zxid cur_zxid, int64_t cur_epoch) const {
  if (!IsVoter(id)) return false;
  if (epoch != cur_epoch) return epoch > cur_epoch;
  if (zxid != cur_zxid) return zxid > cur_zxid;
  return id > cur_id;
}

void Election::Start(int64_t now_ms, Zxid last_zxid, int64_t current_epoch, std::vector<NotificationOut>* out) {
  ++logical_clock_;
  recvset_.clear();
  outofelection_.clear();
  down_.clear();  // only what happens to a channel during this round counts
  finalize_at_ms_ = kNone;
  init_ = IsVoter(config_.self) ? Vote{config_.self, last_zxid, 0, current_epoch, PeerState::kLooking} : Vote{};
  Update(init_.leader, init_.zxid, init_.peer_epoch);
  interval_ms_ = config_.finalize_wait_ms;
  resend_at_ms_ = now_ms + interval_ms_;
  SendProposal(out);
}

void Election::Update(ServerId leader, Zxid zxid, int64_t epoch) {
  proposal_ = Vote{leader, zxid, logical_clock_, epoch, PeerState::kLooking};
  // Our own notification reaches our own queue in ZooKeeper; here directly.
  if (IsVoter(config_.self)) recvset_[config_.self] = proposal_;
}

void Election::SendProposal(std::vector<NotificationOut>* out) {
  Notification n = Answer(proposal_, PeerState::kLooking, config_.config_text);
  n.election_epoch = logical_clock_;
  for (ServerId id : voters_) {
    if (id != config_.self) out->push_back({id, n});
  }
}

Notification Election::Answer(const Vote& current, PeerState state, const std::string& config_text) {
  Notification n;
  n.state = state;
  n.leader = current.leader;
  n.zxid = current.zxid;
  n.election_epoch = current.election_epoch;
  n.peer_epoch = current.peer_epoch;
  n.config = config_text;
  return n;
}

std::optional<Vote> Election::OnNotification(ServerId from, const Notification& n, int64_t now_ms,
                                             std::vector<NotificationOut>* out) {
  if (!IsVoter(from)) return std::nullopt;
  down_.erase(from);  // it reached us: its channel is up again
  if (!IsVoter(n.leader)) return std::nullopt;
  resend_at_ms_ = now_ms + interval_ms_;  // the poll restarts
  // A lagging LOOKING voter gets our proposal. Not from an observer: a voter
  // answers every observer notification, so a looking observer ahead in
  // rounds and a looking voter would answer each other forever (the
  // simulator found this loop); voters ignore observers' votes anyway.
  if (n.state == PeerState::kLooking && n.election_epoch < logical_clock_ && IsVoter(config_.self)) {
    out->push_back({from, Answer(proposal_, PeerState::kLooking, config_.config_text)});
  }
  if (finalize_at_ms_ != kNone) {
    // finalizeWait: only a better vote reopens the round; others are dropped.
    if (!Better(n.leader, n.zxid, n.peer_epoch, proposal_.leader, proposal_.zxid, proposal_.peer_epoch)) {
      // The same vote in our round is recorded (ZooKeeper drops it): it may
      // be the last one the early end waits for.
      Vote v{n.leader, n.zxid, n.election_epoch, n.peer_epoch, PeerState::kLooking};
      if (n.state == PeerState::kLooking && SameVote(v, proposal_)) {
        recvset_[from] = v;
        if (NothingToWaitFor()) return Final();
      }
      finalize_at_ms_ = now_ms + config_.finalize_wait_ms;
      return std::nullopt;
    }
    finalize_at_ms_ = kNone;
  }
  switch (n.state) {
    case PeerState::kLooking:
      return OnLooking(from, n, now_ms, out);
    case PeerState::kFollowing:
    case PeerState::kLeading:
      return OnEstablished(from, n);
    case PeerState::kObserving:
      break;
  }
  return std::nullopt;
}

std::optional<Vote> Election::OnLooking(ServerId from, const Notification& n, int64_t now_ms,
                                        std::vector<NotificationOut>* out) {
  if (n.election_epoch > logical_clock_) {
    logical_clock_ = n.election_epoch;
    recvset_.clear();
    if (Better(n.leader, n.zxid, n.peer_epoch, init_.leader, init_.zxid, init_.peer_epoch)) {
      Update(n.leader, n.zxid, n.peer_epoch);
    } else {
      Update(init_.leader, init_.zxid, init_.peer_epoch);
    }
    SendProposal(out);
  } else if (n.election_epoch < logical_clock_) {
    return std::nullopt;
  } else if (Better(n.leader, n.zxid, n.peer_epoch, proposal_.leader, proposal_.zxid, proposal_.peer_epoch)) {
    Update(n.leader, n.zxid, n.peer_epoch);
    SendProposal(out);
  }
  recvset_[from] = Vote{n.leader, n.zxid, n.election_epoch, n.peer_epoch, PeerState::kLooking};
  if (QuorumFor(recvset_, proposal_)) {
    if (NothingToWaitFor()) return Final();
    finalize_at_ms_ = now_ms + config_.finalize_wait_ms;
  }
  return std::nullopt;
}

std::optional<Vote> Election::OnPeerChannel(ServerId sid, bool up) {
  if (!IsVoter(sid) || sid == config_.self) return std::nullopt;
  if (up) {
    down_.erase(sid);
    return std::nullopt;
  }
  down_.insert(sid);
  if (finalize_at_ms_ != kNone && NothingToWaitFor()) return Final();
  return std::nullopt;
}

// No vote can still change the outcome: every voter whose channel is up
// already sent our proposal. ZooKeeper waits finalizeWait regardless; a vote
// from a voter that cannot reach us cannot arrive in it. Safety never rests
// on the wait (the leader drops a learner ahead of it in discovery), and
// every voter that agreed adopted our proposal only because it was at least
// as good as its own: the quorum that agreed can follow it.
bool Election::NothingToWaitFor() const {
  for (ServerId id : voters_) {
    if (id == config_.self || down_.count(id)) continue;
    auto it = recvset_.find(id);
    if (it == recvset_.end() || it->second.state != PeerState::kLooking || !SameVote(it->second, proposal_)) {
      return false;
    }
  }
  return QuorumFor(recvset_, proposal_);
}

std::optional<Vote> Election::OnEstablished(ServerId from, const Notification& n) {
  Vote v{n.leader, n.zxid, n.election_epoch, n.peer_epoch, n.state};
  if (n.election_epoch == logical_clock_) {
    recvset_[from] = v;
    if (QuorumFor(recvset_, v) && CheckLeader(recvset_, n.leader, n.election_epoch)) return v;
  }
  outofelection_[from] = v;
  if (QuorumFor(outofelection_, v) && CheckLeader(outofelection_, n.leader, n.election_epoch)) {
    logical_clock_ = n.election_epoch;
    return v;
  }
  return std::nullopt;
}

std::optional<Vote> Election::OnTick(int64_t now_ms, std::vector<NotificationOut>* out) {
  if (finalize_at_ms_ != kNone && now_ms >= finalize_at_ms_) return Final();
  if (now_ms >= resend_at_ms_) {
    SendProposal(out);
    interval_ms_ = std::min(interval_ms_ * 2, config_.max_notification_interval_ms);
    resend_at_ms_ = now_ms + interval_ms_;
  }
  return std::nullopt;
}

bool Election::QuorumFor(const std::map<ServerId, Vote>& votes, const Vote& target) const {
  std::set<ServerId> agree;
  for (const auto& [id, v] : votes) {
    if (SameVote(v, target)) agree.insert(id);
  }
  return HasQuorum(agree);
}

// checkLeader: another leader must have told us it is LEADING; ourselves
// only in the round we are in.
bool Election::CheckLeader(const std::map<ServerId, Vote>& votes, ServerId leader, int64_t election_epoch) const {
  if (leader != config_.self) {
    auto it = votes.find(leader);
    return it != votes.end() && it->second.state == PeerState::kLeading;
  }
  return logical_clock_ == election_epoch;
}

Vote Election::Final() const {
  Vote v = proposal_;
  v.election_epoch = logical_clock_;
  return v;
}

}  // namespace aviary::zab
