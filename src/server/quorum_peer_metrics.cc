// An ensemble member's metrics (issue 9), on the consensus thread, under
// ZooKeeper 3.8's names (metrics/server_metrics.h): elections (looking_count,
// election_time), availability (unavailable_time, leader_unavailable_time,
// follower_sync_time / observer_sync_time), the leader's proposals and
// commits (proposal_count, commit_count, proposal_latency) and learner syncs
// (diff_count, snap_count), a learner's received proposals and commits.
#include "metrics/server_metrics.h"
#include "server/quorum_peer.h"

namespace aviary::server {

namespace {
int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

// Called by NoteRole with the new role before it is recorded (role_ and
// serving_ still hold the old ones).
void QuorumPeer::NoteRoleMetrics(zab::Role role, bool serving) {
  EnsembleTimes& t = ensemble_times_;
  if (role == role_ && serving == serving_ && t.begun) return;
  metrics::ServerMetrics& m = metrics::Server();
  const int64_t now = NowMs();
  if (!t.begun) {  // a peer starts LOOKING
    t.begun = true;
    m.looking_count.Add();
    t.looking_since_ms = now;
  }
  if (role == zab::Role::kLooking && role_ != zab::Role::kLooking) {
    m.looking_count.Add();
    t.looking_since_ms = now;
  }
  if (role != zab::Role::kLooking && role_ == zab::Role::kLooking && t.looking_since_ms >= 0) {
    m.election_time.Add(now - t.looking_since_ms);  // LOOKING until a leader is chosen
    t.looking_since_ms = -1;
    t.sync_since_ms = now;
  }
  if (serving_ && !serving) t.unavailable_since_ms = now;
  if (serving && !serving_) {
    if (t.unavailable_since_ms >= 0) {
      (role == zab::Role::kLeading ? m.leader_unavailable_time : m.unavailable_time).Add(now - t.unavailable_since_ms);
      t.unavailable_since_ms = -1;
    }
    if (t.sync_since_ms >= 0 && role != zab::Role::kLeading) {
      (role == zab::Role::kObserving ? m.observer_sync_time : m.follower_sync_time).Add(now - t.sync_since_ms);
    }
    t.sync_since_ms = -1;
  }
  std::lock_guard<std::mutex> lock(mu_);
  status_.leader_since_ms = role == zab::Role::kLeading && serving ? now : -1;
}

void QuorumPeer::CountAppended(int64_t zxid) {
  metrics::ServerMetrics& m = metrics::Server();
  if (role_ != zab::Role::kLeading) {
    m.learner_proposal_received_count.Add();
    return;
  }
  m.proposal_count.Add();
  // Bounded: a leader that loses its quorum stops proposing long before.
  if (proposal_started_ms_.size() < 100000) proposal_started_ms_[zxid] = NowMs();
}

void QuorumPeer::CountCommitted(size_t txns, int64_t through) {
  metrics::ServerMetrics& m = metrics::Server();
  if (role_ != zab::Role::kLeading) {
    m.learner_commit_received_count.Add(static_cast<int64_t>(txns));
    proposal_started_ms_.clear();
    return;
  }
  m.commit_count.Add(static_cast<int64_t>(txns));
  const int64_t now = NowMs();
  while (!proposal_started_ms_.empty() && proposal_started_ms_.begin()->first <= through) {
    m.proposal_latency.Add(now - proposal_started_ms_.begin()->second);
    proposal_started_ms_.erase(proposal_started_ms_.begin());
  }
}

void QuorumPeer::CountSent(const zab::Outgoing& o) {
  if (o.kind == zab::Outgoing::Kind::kSnap) {
    metrics::Server().snap_count.Add();
  } else if (o.kind == zab::Outgoing::Kind::kPacket &&
             (o.packet.type == quorum::PacketType::kDiff || o.packet.type == quorum::PacketType::kTrunc)) {
    metrics::Server().diff_count.Add();
  }
}

}  // namespace aviary::server

namespace aviary::server {

// mntr's ensemble keys as ZooKeeper 3.8 prints them: zk_peer_state
// (QuorumPeer.getDetailedPeerState: "<state> - <zab state>", "looking"),
// zk_observer_master_id on an observer, zk_quorum_size (the voting members,
// QuorumPeer.getQuorumSize) on every member, and on the leader
// zk_leader_uptime plus the legacy zk_followers (ZooKeeper 3.4's count of
// learners, which older monitoring still reads; not printed by 3.8).
void QuorumPeer::FillMetricsStatus(const QuorumStatus& st, admin::ServerSnapshot& s) const {
  const char* zab_state = st.serving ? "broadcast" : "synchronization";
  switch (st.role) {
    case zab::Role::kLeading:
      s.peer_state = std::string("leading - ") + zab_state;
      break;
    case zab::Role::kFollowing:
      s.peer_state = std::string("following - ") + zab_state;
      break;
    case zab::Role::kObserving:
      s.peer_state = std::string("observing - ") + zab_state;
      s.observer_master_id = st.leader_id;
      break;
    case zab::Role::kLooking:
      s.peer_state = "looking";
      break;
  }
  s.extra_metrics.emplace_back("quorum_size", std::to_string(opts_.quorum.voting_ids.size()));
  if (st.role == zab::Role::kLeading && st.serving) {
    const int64_t uptime = st.leader_since_ms < 0 ? 0 : NowMs() - st.leader_since_ms;
    s.extra_metrics.emplace_back("leader_uptime", std::to_string(uptime));
    s.extra_metrics.emplace_back("followers", std::to_string(st.learners));
  }
}

}  // namespace aviary::server
