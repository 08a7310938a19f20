// An ensemble member's metrics (issue 9), on the consensus thread, under
// ZooKeeper 3.8's names (metrics/server_metrics.h): elections (looking_count,
// election_time), availability (unavailable_time, leader_unavailable_time,
// follower_sync_time / observer_sync_time), the leader's proposals and
// commits (proposal_count, commit_count, quorum_ack_latency, ack_latency per
// learner) and learner syncs (diff_count, snap_count), a learner's received
// proposals and commits (counts, proposal_latency, commit_propagation_latency).
#include "metrics/server_metrics.h"
#include "quorum/codec.h"
#include "server/quorum_peer.h"

namespace aviary::server {

namespace {
int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
constexpr int64_t kAckLoggingFrequency = 1000;
constexpr size_t kAckSamplesKept = 8;
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

// As ZooKeeper 3.8 feeds them: a learner's proposal_latency (the leader's
// txn time -> the proposal logged here; Follower.processPacket) and
// commit_propagation_latency (-> its commit; FollowerZooKeeperServer.commit),
// counted only once it serves (not the txns of its sync); the leader's
// quorum_ack_latency (logged here -> a quorum acked, i.e. committed;
// Leader.tryToCommit), timed from when the leader logged the proposal.
// Wall-clock differences across hosts can be negative: skipped, as ZooKeeper.
// The clocks are read once per batch of appends (append_clock_, reset by
// RunStorage): a batch is appended within microseconds.
void QuorumPeer::CountAppended(int64_t zxid, int64_t txn_time_ms) {
  metrics::ServerMetrics& m = metrics::Server();
  if (role_ != zab::Role::kLeading) {
    m.learner_proposal_received_count.Add();
    if (append_clock_.wall_ms < 0) append_clock_.wall_ms = WallMs();
    const int64_t latency = append_clock_.wall_ms - txn_time_ms;
    if (serving_ && txn_time_ms > 0 && latency >= 0) m.proposal_latency.Add(latency);
    return;
  }
  m.proposal_count.Add();
  if (append_clock_.steady_ms < 0) append_clock_.steady_ms = NowMs();
  const int64_t now = append_clock_.steady_ms;
  // Bounded: a leader that loses its quorum stops proposing long before.
  if (proposal_started_ms_.size() < 100000) proposal_started_ms_.emplace_back(zxid, now);  // zxids ascend
  if (zxid % kAckLoggingFrequency == 0) {
    ack_sampled_ms_[zxid] = now;
    if (ack_sampled_ms_.size() > kAckSamplesKept) ack_sampled_ms_.erase(ack_sampled_ms_.begin());
  }
}

void QuorumPeer::CountCommitted(std::span<const txn::Txn> batch, int64_t through) {
  metrics::ServerMetrics& m = metrics::Server();
  if (role_ != zab::Role::kLeading) {
    m.learner_commit_received_count.Add(static_cast<int64_t>(batch.size()));
    proposal_started_ms_.clear();
    if (!serving_) return;
    const int64_t wall = WallMs();
    for (const txn::Txn& t : batch) {
      if (t.time_ms > 0 && wall >= t.time_ms) m.commit_propagation_latency.Add(wall - t.time_ms);
    }
    return;
  }
  m.commit_count.Add(static_cast<int64_t>(batch.size()));
  const int64_t now = NowMs();
  while (!proposal_started_ms_.empty() && proposal_started_ms_.front().first <= through) {
    m.quorum_ack_latency.Add(now - proposal_started_ms_.front().second);
    proposal_started_ms_.pop_front();
  }
}

// Leader: which sid a learner connection is (its FOLLOWERINFO /
// OBSERVERINFO), and ack_latency{key=<sid>}: proposal logged here -> that
// learner's ACK, for one zxid in kAckLoggingFrequency (ZooKeeper's
// zookeeper.leader.ackLoggingFrequency default, Leader.processAck), so the
// slowest learner's ACK is timed too, after the commit.
void QuorumPeer::NoteLearnerPacket(peer::ConnId conn, const quorum::QuorumPacket& p) {
  if (p.type == quorum::PacketType::kFollowerInfo || p.type == quorum::PacketType::kObserverInfo) {
    if (auto li = quorum::DecodeLearnerInfo(p.data)) {
      learner_sids_[conn] = li->server_id;
      quorum_->SetLabel(conn, std::to_string(li->server_id));  // learner_handler_qp_* (on_output_taken)
    }
    return;
  }
  if (p.type != quorum::PacketType::kAck || p.zxid % kAckLoggingFrequency != 0) return;
  auto sampled = ack_sampled_ms_.find(p.zxid);
  auto sid = learner_sids_.find(conn);
  if (sampled == ack_sampled_ms_.end() || sid == learner_sids_.end()) return;
  metrics::Server().ack_latency.Get(std::to_string(sid->second)).Add(NowMs() - sampled->second);
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
// zk_leader_uptime. The leader also prints ZooKeeper 3.4's zk_followers (the
// learner count, observers included, as 3.4's Leader.getLearners()): 3.8
// replaced it by zk_learners, but check_zookeeper.py and the Datadog check
// still read it (an Aviary extra, docs/monitoring/README.md).
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
