// QuorumPeer: executing the node's Ready (zab/types.h, docs/design/zab.md
// "API for the host"), on the consensus thread.
#include <chrono>

#include "base/log.h"
#include "quorum/codec.h"
#include "server/quorum_peer.h"
#include "storage/epoch_file.h"
#include "storage/log_range.h"
#include "storage/recovery.h"
#include "zkformat/txn_codec.h"

namespace aviary::server {

namespace {
int64_t SteadyMsNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

// Each executed Ready goes back to the node (Recycle): its buffers carry
// the next batch, so a pass does not allocate them anew.
void QuorumPeer::Drive() {
  for (int i = 0; i < 64; ++i) {
    zab::Ready r = node_->TakeReady();
    const bool empty = r.empty();
    if (!empty) Execute(r);
    node_->Recycle(std::move(r));
    if (empty) return;
  }
}

void QuorumPeer::Execute(zab::Ready& r) {
  std::string error;
  if (r.accepted_epoch && !storage::StoreAcceptedEpoch(opts_.data_dir, *r.accepted_epoch, &error)) Fatal(error);
  if (r.current_epoch && !storage::StoreCurrentEpoch(opts_.data_dir, *r.current_epoch, &error)) Fatal(error);
  RunStorage(r.storage);
  if (r.commit_through) CommitThrough(*r.commit_through);
  for (const zab::NotificationOut& n : r.notifications) election_->Send(n.to, n.n);
  SendPackets(r.packets);
  for (zab::ConnId c : r.close) {
    DropSnap(c);
    quorum_->Close(c);
  }
  if (r.connect_leader) ConnectLeader(*r.connect_leader);
  ToHost(r.to_host);
  SyncsDone(r.syncs_done);
  NoteRole();
}

// Appends and fsyncs go to the storage thread (QuorumLog), in order; their
// completions come back through TakeFsyncs. A TRUNC or a SNAP install uses
// the log directly, after draining the storage thread (so it stays ordered
// after every append queued before it).
void QuorumPeer::RunStorage(std::vector<zab::StorageOp>& ops) {
  append_clock_ = {};
  for (zab::StorageOp& op : ops) {
    switch (op.kind) {
      case zab::StorageOp::Kind::kAppend:
        AppendLogged(op);
        break;
      case zab::StorageOp::Kind::kFsync:
        log_->Fsync(op.token);  // the storage thread rolls after it if asked (Wal::MaybeRoll)
        break;
      case zab::StorageOp::Kind::kTruncate:
        log_->Drain();
        Truncate(op.zxid);
        break;
      case zab::StorageOp::Kind::kInstallSnapshot:
        log_->Drain();
        InstallSnapshot(op.zxid);
        break;
    }
  }
}

// Fsyncs the storage thread completed. Tokens complete in order, and the
// node's OnFsyncDone(t) covers every token <= t: the last one says it all.
void QuorumPeer::TakeFsyncs() {
  ReleaseLogged();
  std::vector<uint64_t>& tokens = fsync_tokens_;
  tokens.clear();
  log_->TakeSynced(&tokens);
  if (tokens.empty()) return;
  node_->OnFsyncDone(tokens.back());
  Drive();
}

// The txn in ZooKeeper's bytes becomes a txn::Txn (the leader keeps the one
// its core prepared) and goes to the log: the storage thread reads it in
// logged_, where it waits for its commit (no copy).
void QuorumPeer::AppendLogged(zab::StorageOp& op) {
  txn::Txn t;
  while (!proposed_.empty() && proposed_.front().zxid < op.zxid) proposed_.pop_front();  // none: zxids ascend
  if (!proposed_.empty() && proposed_.front().zxid == op.zxid) {
    t = std::move(proposed_.front());
    proposed_.pop_front();
  } else {
    // A leader's own proposal comes without its bytes (leader_append_bytes
    // is off): it must be the core's txn in proposed_.
    if (op.bytes.empty() && node_->role() == zab::Role::kLeading) {
      Fatal(fmt::format("the leader's txn {:#x} is not among its proposals", op.zxid));
    }
    zkformat::ZkTxn z;
    std::string error;
    if (!zkformat::DecodeZkTxn(op.bytes, &z, &error)) {
      // A txn Aviary cannot apply (reconfig): it still takes its zxid.
      AV_LOG(kWarn, "txn {:#x} not understood ({}): logged as an error txn", op.zxid, error);
      z.txn = txn::Txn{};
      z.digest.reset();
      z.txn.type = proto::OpCode::kError;
      z.txn.op = txn::Op{proto::OpCode::kError, txn::ErrorTxn{proto::Err::kMarshallingError}};
    }
    t = std::move(z.txn);
    // The leader's digest of the tree after this txn, compared after apply
    // and logged with the txn (unless digests are off here).
    const bool usable = z.digest && z.digest->version == zkformat::kDigestVersion && opts_.quorum.digest_enabled;
    if (usable) t.zk_digest = z.digest->tree_digest;
  }
  t.zxid = op.zxid;
  CountAppended(op.zxid, t.time_ms);
  logged_.push_back({std::move(t), 0, false});
  logged_.back().seq = log_->Append(&logged_.back().txn);
}

// Keep the log through `zxid`. What recovery applied beyond it (txns this
// server logged but its old epoch never committed) is undone as ZooKeeper
// does (ZKDatabase.truncateLog): the state is reloaded from the files.
void QuorumPeer::Truncate(int64_t zxid) {
  std::string error;
  if (!wal_.TruncateAfter(zxid, opts_.data_dir, &error)) Fatal("log truncate: " + error);
  while (!logged_.empty() && logged_.back().txn.zxid > zxid) logged_.pop_back();  // drained: nothing reads them
  if (zxid >= applied_) return;
  AV_LOG(kInfo, "ensemble: TRUNC to {:#x} below the applied {:#x}: reloading the state from the files", zxid, applied_);
  auto sm = std::make_shared<txn::StateMachine>();
  storage::RecoveryOptions ro;
  ro.snap_dir = opts_.data_dir;
  ro.log_dir = opts_.wal.dir;
  storage::RecoveryResult r = storage::Recover(ro, sm.get());
  if (!r.ok) Fatal("reloading after TRUNC: " + r.error);
  if (r.last_zxid != zxid) Fatal(fmt::format("reloading after TRUNC reached {:#x}, not {:#x}", r.last_zxid, zxid));
  auto sessions = std::make_shared<std::vector<storage::SessionRecord>>(std::move(r.sessions));
  OnCore([sm, sessions, zxid](Core& c, int64_t now_ms) { c.InstallSnapshot(sm->tree(), *sessions, zxid, now_ms); });
  applied_ = zxid;
}

// The txns through `zxid` go to the core: moved out of logged_ when the
// storage thread has written them, else copied (a follower can see a COMMIT
// before its own log thread got to the PROPOSAL); their entries stay until
// the storage thread is done with them (ReleaseLogged).
void QuorumPeer::CommitThrough(int64_t zxid) {
  // The window's end reaches the core before these txns (OnCore flushes
  // what was committed before it).
  if (snap_window_open_) CloseSnapWindow(zxid);
  std::vector<txn::Txn>& batch = to_core_commits_;  // straight into the pass's hand-over to the core
  const size_t first = batch.size();
  const uint64_t appended = log_->appended();
  for (LoggedTxn& e : logged_) {
    if (e.txn.zxid > zxid) break;
    if (e.handed) continue;
    e.handed = true;
    if (e.txn.zxid <= applied_) continue;
    if (e.seq <= appended) {
      batch.push_back(std::move(e.txn));
    } else {
      batch.push_back(e.txn);
    }
  }
  ReleaseLogged();
  if (zxid > applied_) applied_ = zxid;
  CountCommitted(std::span<const txn::Txn>(batch.data() + first, batch.size() - first), zxid);
}

void QuorumPeer::ReleaseLogged() {
  if (logged_.empty() || !logged_.front().handed) return;
  const uint64_t appended = log_->appended();
  while (!logged_.empty() && logged_.front().handed && logged_.front().seq <= appended) logged_.pop_front();
}

// What this pass of the consensus thread has for the core, handed over at
// once (one lock and one wakeup per pass, not per packet): committed txns
// first, then learners' requests and touches. Called at the end of each
// pass and before anything else reaches the core (a role change, a call),
// which the core handles after applying what was committed before it.
void QuorumPeer::FlushCore() {
  if (!to_core_commits_.empty()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& t : to_core_commits_) committed_.push_back(std::move(t));
    }
    to_core_commits_.clear();
    core_->WakeForCommits();
  }
  if (!to_core_events_.empty()) core_->Post(to_core_events_);
  if (!to_core_touched_.empty()) core_->PostTouches(std::move(to_core_touched_));
  to_core_events_.clear();
  to_core_touched_.clear();
}

// The first commit after a SNAP install is UPTODATE's: the leader had sent
// the COMMIT of every txn its snapshot could reflect (it serialised the
// snapshot before NEWLEADER, and UPTODATE answers our ACK of NEWLEADER), so
// the fuzzy window ends there; later txns are checked as a learner's.
void QuorumPeer::CloseSnapWindow(int64_t zxid) {
  snap_window_open_ = false;
  OnCore([zxid](Core& c, int64_t) { c.mutable_state().SetFuzzyThrough(zxid); });
}

void QuorumPeer::SendPackets(std::vector<zab::Outgoing>& packets) {
  for (zab::Outgoing& o : packets) {
    if (HoldForSnap(o)) continue;
    CountSent(o);
    switch (o.kind) {
      case zab::Outgoing::Kind::kPacket:
        quorum_->Send(o.conn, o.packet);
        break;
      case zab::Outgoing::Kind::kDiff:
        SendDiff(o);
        break;
      case zab::Outgoing::Kind::kSnap:
        SendSnap(o);
        break;
    }
  }
}

// PROPOSAL + COMMIT for each logged txn in (from, to], in ZooKeeper's bytes,
// with the TxnDigest it was logged with (LearnerHandler sends what
// FileTxnLog / the committed log hold: every txn proposed with a digest).
void QuorumPeer::SendDiff(const zab::Outgoing& o) {
  if (o.to <= o.from) return;
  log_->Drain();  // the files hold every txn logged so far
  std::string error;
  storage::LogRangeReader reader;
  if (!reader.Open(opts_.wal.dir, o.from, o.to, &error)) {
    AV_LOG(kError, "DIFF ({:#x}, {:#x}]: {}: closing the learner", o.from, o.to, error);
    return quorum_->Close(o.conn);
  }
  if (!reader.covers_from()) {
    // Purged past `from` since the sync decision: the learner retries and
    // gets a SNAP (NoteLogStart moved the node's log base).
    AV_LOG(kWarn, "DIFF ({:#x}, {:#x}]: the log no longer holds {:#x}: closing the learner", o.from, o.to, o.from);
    return quorum_->Close(o.conn);
  }
  txn::Txn t;
  while (reader.Next(&t)) {
    zkformat::ZkTxn z;
    z.txn = t;
    if (t.zk_digest && opts_.quorum.digest_enabled)
      z.digest = zkformat::TxnDigest{zkformat::kDigestVersion, *t.zk_digest};
    quorum::QuorumPacket p;
    p.type = quorum::PacketType::kProposal;
    p.zxid = t.zxid;
    if (!zkformat::EncodeZkTxn(z, &p.data, &error)) {
      AV_LOG(kError, "DIFF: txn {:#x} has no ZooKeeper form: {}", t.zxid, error);
      return quorum_->Close(o.conn);
    }
    if (!SendWaiting(o.conn, p) || !SendWaiting(o.conn, {quorum::PacketType::kCommit, t.zxid, {}, false, {}})) {
      return quorum_->Close(o.conn);
    }
  }
  if (!reader.error().empty()) {
    AV_LOG(kError, "DIFF ({:#x}, {:#x}]: {}: closing the learner", o.from, o.to, reader.error());
    quorum_->Close(o.conn);
  }
}

// A DIFF larger than the transport's output bound waits for the learner to
// read (a dropped packet would break its stream); false: closed, or the
// learner took nothing for syncLimit.
bool QuorumPeer::SendWaiting(peer::ConnId conn, const quorum::QuorumPacket& p) {
  const int64_t give_up_ms = SteadyMsNow() + int64_t{opts_.quorum.tick_ms} * opts_.quorum.sync_limit_ticks;
  while (true) {
    const peer::QuorumTransport::SendResult r = quorum_->Send(conn, p);
    if (r == peer::QuorumTransport::SendResult::kQueued) return true;
    if (r == peer::QuorumTransport::SendResult::kClosed || SteadyMsNow() > give_up_ms) return false;
    quorum_->WaitOutput(10);
  }
}

void QuorumPeer::ConnectLeader(int64_t sid) {
  const config::QuorumMember* m = opts_.quorum.Find(sid);
  if (m == nullptr) return node_->OnLeaderConnectFailed();
  if (leader_conn_ != 0) quorum_->Close(leader_conn_);
  leader_connected_ = false;
  syncs_sent_.clear();  // a new leader answers only what is sent to it
  leader_conn_ = quorum_->Connect(m->addresses.front().host, m->addresses.front().peer_port);
}

// Leader: learners' REQUESTs and session touches become core events;
// REVALIDATE (asked by a learner, or the leader's answer) is OnRevalidate's.
void QuorumPeer::ToHost(std::vector<zab::HostPacket>& packets) {
  std::vector<CoreEvent>& events = to_core_events_;
  std::vector<int64_t>& touched = to_core_touched_;
  for (zab::HostPacket& h : packets) {
    const quorum::QuorumPacket& p = h.packet;
    if (p.type == quorum::PacketType::kRequest) {
      auto r = quorum::DecodeForwardedRequest(p.data);
      if (!r) continue;  // hostile or broken: dropped (the client times out)
      // A sync() goes to the core too, in order with the writes before it
      // (Core::OnForwarded → LearnerSyncs).
      auto f = std::make_shared<ForwardedRequest>();
      f->session_id = r->session_id;
      f->cxid = r->cxid;
      f->type = r->type;
      f->body = std::move(r->body);
      f->auth_ids = p.authinfo;
      f->learner_conn = h.conn;
      CoreEvent ev;
      ev.kind = CoreEvent::Kind::kForwarded;
      ev.forwarded = std::move(f);
      events.push_back(std::move(ev));
    } else if (p.type == quorum::PacketType::kPing) {
      auto t = quorum::DecodeSessionTouches(p.data);
      if (t) {
        for (const auto& s : *t) touched.push_back(s.session_id);
      }
    } else if (p.type == quorum::PacketType::kRevalidate) {
      OnRevalidate(h);  // quorum_peer_session.cc
    }
  }
}

void QuorumPeer::NoteRole() {
  const bool serving = node_->serving();
  const zab::Role role = node_->role();
  const bool learning = role == zab::Role::kFollowing || role == zab::Role::kObserving;
  forward_conn_.store(serving && learning ? leader_conn_ : 0, std::memory_order_release);
  // The admin words' view, published under mu_ only when it changed (this
  // runs after every Ready; mu_ is the core thread's too).
  const zab::ServerId leader = node_->leader();
  const NotedStatus noted{role,
                          serving,
                          static_cast<int64_t>(node_->learner_count()),
                          static_cast<int64_t>(node_->synced_follower_count()),
                          static_cast<int64_t>(node_->synced_observer_count()),
                          static_cast<int64_t>(node_->pending_sync_count()),
                          node_->current_epoch(),
                          node_->leader_is_aviary(),
                          leader == zab::kNone ? -1 : static_cast<int64_t>(leader),
                          node_->zab_state()};
  if (!noted_status_ || !(*noted_status_ == noted)) {
    noted_status_ = noted;
    std::lock_guard<std::mutex> lock(mu_);
    status_.role = role;
    status_.serving = serving;
    status_.learners = noted.learners;
    status_.synced_learners = noted.synced_learners;
    status_.synced_observers = noted.synced_observers;
    status_.pending_syncs = noted.pending_syncs;
    status_.epoch = noted.epoch;
    if (role == zab::Role::kLeading && role_ != zab::Role::kLeading) status_.proposal_sizes = {};  // a new Leader
    status_.leader_is_aviary = noted.leader_is_aviary;
    status_.leader_id = noted.leader_id;
    status_.zab_state = noted.zab_state;
  }
  if (serving && serving == serving_ && role == role_ && !snap_window_open_) return;  // steady broadcast
  if (serving && snap_window_open_) CloseSnapWindow(applied_);                        // UPTODATE committed nothing new
  NoteRoleMetrics(role, serving);
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
  if (!serving && election_started_ms_ < 0) election_started_ms_ = now_ms;
  if (serving == serving_ && role == role_) return;
  FlushCore();  // what came before the change is handled before it
  serving_ = serving;
  role_ = role;
  ResetReadOnlyTimer();
  // One line per change, with what follows one election: the leader, the
  // epoch, the zxid, and how long this server was without a leader.
  const std::string took =
      serving && election_started_ms_ >= 0 ? fmt::format(", election took {} ms", now_ms - election_started_ms_) : "";
  AV_LOG(kInfo, "ensemble: {} ({}), leader {}, epoch {}, committed {:#x}{}", zab::RoleName(role),
         serving ? "serving" : "not serving", node_->leader(), node_->current_epoch(), node_->committed(), took);
  if (serving) election_started_ms_ = -1;
  if (!serving) return core_->PostRole(ServingRole::kNotServing, 0);
  if (role == zab::Role::kLeading) return core_->PostRole(ServingRole::kLeader, node_->current_epoch());
  core_->PostRole(ServingRole::kFollower, 0);
}

// ZooKeeper's words: Mode leader / follower / observer; a server that is
// not serving answers "not currently serving requests". A serving leader's
// Zxid is at least its epoch's first (ZooKeeper's Leader sets its
// lastProcessedZxid to epoch << 32 once established: srvr shows it before
// any write); Core::FillStats keeps the larger of this and what it applied.
// The leader's mntr counts as ZooKeeper 3.8's (LeaderZooKeeperServer's
// gauges): zk_learners (every learner connection, observers included),
// zk_synced_followers, zk_synced_non_voting_followers (always 0: Aviary has
// no non-voting followers), zk_synced_observers, zk_pending_syncs. A
// follower prints no zk_synced_observers: ZooKeeper's gauge is null (not
// printed) on a follower without an observer master, which Aviary has not.
void QuorumPeer::FillStatus(admin::ServerSnapshot& s) const {
  const QuorumStatus st = status();
  s.serving = st.serving;
  // Always listed, as ZooKeeper's metric (0 with digests off).
  s.extra_metrics.emplace_back("digest_mismatches_count", std::to_string(checker_ ? checker_->mismatches() : 0));
  FillMetricsStatus(st, s);  // quorum_peer_metrics.cc: peer_state, quorum_size, leader_uptime, ...
  switch (st.role) {
    case zab::Role::kLeading:
      s.server_state = "leader";
      if (st.serving) s.zxid = quorum::MakeZxid(st.epoch, 0);
      s.extra_metrics.emplace_back("learners", std::to_string(st.learners));
      s.extra_metrics.emplace_back("synced_followers", std::to_string(st.synced_learners));
      s.extra_metrics.emplace_back("synced_non_voting_followers", "0");
      s.extra_metrics.emplace_back("synced_observers", std::to_string(st.synced_observers));
      s.extra_metrics.emplace_back("pending_syncs", std::to_string(st.pending_syncs));
      s.proposal_sizes = st.proposal_sizes;
      s.extra_metrics.emplace_back("last_proposal_size", std::to_string(st.proposal_sizes.last));
      s.extra_metrics.emplace_back("max_proposal_size", std::to_string(st.proposal_sizes.max));
      s.extra_metrics.emplace_back("min_proposal_size", std::to_string(st.proposal_sizes.min));
      break;
    case zab::Role::kFollowing:
      s.server_state = "follower";
      break;
    case zab::Role::kObserving:
      s.server_state = "observer";
      break;
    case zab::Role::kLooking:
      s.server_state = "leaderelection";
      break;
  }
}

}  // namespace aviary::server
