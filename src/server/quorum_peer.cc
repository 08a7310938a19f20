#include "server/quorum_peer.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>

#include "base/log.h"
#include "metrics/server_metrics.h"
#include "quorum/codec.h"
#include "storage/log_range.h"
#include "zkformat/txn_codec.h"

namespace aviary::server {

namespace {

constexpr int kPollMs = 5;
constexpr int kMaxEventsPerPass = 256;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The zxids the log holds up to `last` (what recovery applied), for the
// node's sync decisions (DIFF / TRUNC / SNAP). Known committed: only the
// snapshot's state; recovery also applied the log after it, which may hold
// txns of an old epoch that were never committed: the new leader's TRUNC
// then reloads the state (Truncate).
zab::Bootstrap MakeBootstrap(const QuorumPeerOptions& o) {
  zab::Bootstrap b;
  b.accepted_epoch = o.accepted_epoch;
  b.current_epoch = o.current_epoch;
  b.applied_zxid = o.snapshot_zxid;
  b.log_base = o.recovered_zxid;
  int64_t oldest = -1;
  std::string error;
  if (!storage::OldestLoggedZxid(o.wal.dir, &oldest, &error) || oldest < 0 || oldest > o.recovered_zxid) return b;
  storage::LogRangeReader reader;
  if (!reader.Open(o.wal.dir, oldest - 1, o.recovered_zxid, &error)) return b;
  std::vector<quorum::Zxid> zxids;
  txn::Txn t;
  while (reader.Next(&t)) zxids.push_back(t.zxid);
  if (!reader.error().empty()) return b;
  // A log whose first txn follows the snapshot (+1, or the first of a later
  // epoch) holds everything after the snapshot's zxid: a learner at that
  // zxid (0x0 on a fresh start) gets a DIFF, as from ZooKeeper (its txn log
  // sync), not a SNAP of a state this host holds only past its commit point.
  b.log_base = storage::ZxidFollows(o.snapshot_zxid, oldest) ? std::min(o.snapshot_zxid, oldest - 1) : oldest - 1;
  b.logged = std::move(zxids);
  return b;
}

peer::ElectionConfig MakeElectionConfig(const config::QuorumConfig& q) {
  peer::ElectionConfig e;
  e.my_id = q.my_id;
  const config::QuorumAddress& self = q.self().addresses.front();
  e.listen_host = self.host;
  e.listen_port = self.election_port;
  e.listen_on_all_ips = q.quorum_listen_on_all_ips;
  e.bind_retries = q.election_port_bind_retry;
  e.report_channels = true;  // a dead voter's vote is not waited for (zab::Node::OnPeerChannel)
  for (const config::QuorumMember& m : q.members) {
    if (m.id == q.my_id) continue;
    e.members.push_back({m.id, m.addresses.front().host, m.addresses.front().election_port});
    if (m.type != config::PeerType::kParticipant) e.non_voters.insert(m.id);
  }
  return e;
}

}  // namespace

QuorumPeer::QuorumPeer(QuorumPeerOptions opts) : opts_(std::move(opts)), wal_(opts_.wal) {}

void QuorumPeer::SetRecovered(int64_t zxid, int64_t snapshot_zxid, int64_t accepted_epoch, int64_t current_epoch) {
  opts_.recovered_zxid = zxid;
  opts_.snapshot_zxid = std::max<int64_t>(0, std::min(snapshot_zxid, zxid));
  opts_.accepted_epoch = accepted_epoch;
  opts_.current_epoch = current_epoch;
}

QuorumPeer::~QuorumPeer() { Stop(); }

bool QuorumPeer::Start(Core* core, std::string* error) {
  core_ = core;
  // The core thread is not running yet: the checker can be installed.
  if (opts_.quorum.digest_enabled) {
    checker_ =
        std::make_unique<zkformat::DigestChecker>([this](const zkformat::DigestMismatch& m) { OnDigestMismatch(m); });
    core_->InstallDigestLog(checker_.get());  // the state machine's observer, with hash's digest log
  }
  node_ = std::make_unique<zab::Node>(MakeZabConfig(opts_.quorum), MakeBootstrap(opts_));
  applied_ = opts_.recovered_zxid;
  if (!wal_.Open(opts_.recovered_zxid + 1, error)) return false;
  peer::PeerTlsConfig tls;  // sslQuorum / portUnification: one context for both ports
  const config::QuorumConfig& q = opts_.quorum;
  if (!peer::MakePeerTls(q.quorum_tls, q.ssl_quorum, q.port_unification, &tls, error)) return false;
  peer::ElectionConfig ec = MakeElectionConfig(q);
  ec.tls = tls;
  if (opts_.sasl.enable) {
    // One context (and Cyrus authenticator) per transport thread.
    peer::QuorumSaslSettings election_sasl = opts_.sasl;
    election_sasl.timeout_ms = ec.handshake_timeout_ms;
    ec.sasl = peer::MakeQuorumSasl(election_sasl, error);
    if (!ec.sasl) return false;
  }
  election_ = std::make_unique<peer::ElectionTransport>(std::move(ec));
  election_->Start();
  if (election_->WaitListening(30000, error) < 0) return false;
  peer::QuorumTransportConfig qc;
  qc.tls = tls;
  if (opts_.sasl.enable) {
    // Learner.connectToLeader's socket timeout: initLimit * tickTime.
    peer::QuorumSaslSettings quorum_sasl = opts_.sasl;
    quorum_sasl.timeout_ms = static_cast<int>(std::clamp<int64_t>(q.init_timeout_ms, 1000, 60000));
    qc.sasl = peer::MakeQuorumSasl(quorum_sasl, error);
    if (!qc.sasl) return false;
  }
  qc.defer_send_wakes = true;  // the consensus thread's PollMany wakes the I/O thread once per pass
  // ... or rather writes the pass's packets itself (one send() per learner
  // or to the leader), leaving only a full socket's rest to the I/O thread.
  qc.inline_flush = true;
  qc.on_output_taken = [](const std::string& sid, uint64_t packets, int64_t waited_ms) {
    metrics::Server().learner_handler_qp_size.Get(sid).Add(static_cast<int64_t>(packets));
    metrics::Server().learner_handler_qp_time_ms.Get(sid).Add(waited_ms);
  };
  qc.raw_after = [](peer::ConnId, const quorum::QuorumPacket& p) -> std::unique_ptr<quorum::RawSection> {
    if (p.type != quorum::PacketType::kSnap) return nullptr;
    return std::make_unique<SnapReceiver>();
  };
  quorum_ = std::make_unique<peer::QuorumTransport>(qc);
  quorum_->Start();
  log_ = std::make_unique<QuorumLog>(&wal_, [q = quorum_.get()] { q->Interrupt(); });
  log_->Start();
  const config::QuorumAddress& self = opts_.quorum.self().addresses.front();
  if (quorum_->Listen(self.host, self.peer_port, opts_.quorum.quorum_listen_on_all_ips, error) < 0) return false;
  core_->PostRole(ServingRole::kNotServing, 0);
  node_->Start(SteadyMs());
  election_->ConnectAll();
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "av-consensus");  // for top -H / perf
    Run();
  });
  return true;
}

void QuorumPeer::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (log_) log_->Stop();  // before the transport its wakeups go to
  snap_out_.clear();       // kills the children still streaming
  if (quorum_) quorum_->Stop();
  if (election_) election_->Stop();
  std::string ignored;
  wal_.Close(&ignored);
}

QuorumStatus QuorumPeer::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

// Proposals and forwarded writes wait for the end of the core's pass
// (EndOfPass): the consensus thread is woken once and takes them all.
void QuorumPeer::Propose(txn::Txn txn) {
  Proposal p = EncodeProposal(std::move(txn));
  std::lock_guard<std::mutex> lock(mu_);
  to_propose_.push_back(std::move(p));
  inbox_due_ = true;
}

bool QuorumPeer::EndOfPass(bool /*core_idle*/) {
  if (forwarded_direct_) {
    forwarded_direct_ = false;
    quorum_->Flush();  // the pass's REQUESTs go out now (inline_flush: from this thread)
  }
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake = inbox_due_;
    inbox_due_ = false;
  }
  if (wake) quorum_->Interrupt();
  return false;
}

void QuorumPeer::TakeCommitted(std::vector<txn::Txn>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& t : committed_) out->push_back(std::move(t));
  committed_.clear();
}

// A serving learner's writes go to the leader from the core thread itself
// (forward_conn_, set by the consensus thread while it serves): the node
// only passes REQUESTs through (zab::Node::Forward), so the consensus thread
// need not wake for them. A sync() still takes the consensus thread's path
// (its answer is matched to the syncs sent to the current leader, in order:
// syncs_sent_), and so does every write while anything of that path is
// queued or in transit, so that no request overtakes an earlier one. A
// write sent to a leader connection that is going away is lost as one the
// node refused would be: the role change resets the core.
void QuorumPeer::Forward(ForwardedRequest request) {
  std::lock_guard<std::mutex> lock(mu_);
  const peer::ConnId conn = forward_conn_.load(std::memory_order_acquire);
  if (conn != 0 && to_forward_.empty() && forwards_in_transit_ == 0 &&
      request.type != static_cast<int32_t>(proto::OpCode::kSync)) {
    quorum::QuorumPacket p;
    p.type = quorum::PacketType::kRequest;
    p.data = quorum::EncodeForwardedRequest({request.session_id, request.cxid, request.type, std::move(request.body)});
    p.authinfo = std::move(request.auth_ids);
    quorum_->Send(conn, p);
    forwarded_direct_ = true;  // flushed at EndOfPass
    return;
  }
  to_forward_.push_back(std::move(request));
  inbox_due_ = true;
}

void QuorumPeer::Revalidate(int64_t session_id, int32_t timeout_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  to_revalidate_.emplace_back(session_id, timeout_ms);
}

void QuorumPeer::AnswerLearnerSync(uint64_t learner_conn) {
  std::lock_guard<std::mutex> lock(mu_);
  to_sync_.push_back(learner_conn);
}

void QuorumPeer::QueueTouches(std::vector<std::pair<int64_t, int32_t>> touches) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& t : touches) new_touches_.push_back(t);
}

// The broadcast phase's steady traffic: while the node serves, these packets
// (a learner's PROPOSAL / COMMIT / PING, a leader's ACK / REQUEST / PING)
// never make the node sync a learner or install a snapshot, so a pass hands
// all of them to the node before it takes one Ready (whose effects keep
// their order: appends, then the commit point, then packets): one fsync for
// the pass's appends, its COMMITs and ACKs queued together. Anything else
// is driven on its own, as it arrives (a kDiff / kSnap is of the state at
// that moment).
bool QuorumPeer::Batchable(const peer::QuorumEvent& ev) const {
  if (ev.kind != peer::QuorumEvent::Kind::kPacket || !node_->serving()) return false;
  switch (ev.packet.type) {
    case quorum::PacketType::kProposal:
    case quorum::PacketType::kCommit:
    case quorum::PacketType::kAck:
    case quorum::PacketType::kRequest:
    case quorum::PacketType::kPing:
      return true;
    default:
      return false;
  }
}

void QuorumPeer::Run() {
  while (!stop_.load()) {
    events_.clear();
    quorum_->PollMany(&events_, kMaxEventsPerPass, kPollMs);
    // What arrived is handed over at the time it is taken, not at the
    // last tick's (a learner's leader deadline counts from its arrival).
    node_->SetTime(SteadyMs());
    for (peer::QuorumEvent& ev : events_) {
      if (Batchable(ev)) {
        OnQuorumEvent(ev);
        continue;
      }
      Drive();  // what the batched packets before it asked for comes first
      node_->SetTime(SteadyMs());
      OnQuorumEvent(ev);
      Drive();
    }
    Drive();
    node_->SetTime(SteadyMs());
    TakeFsyncs();
    peer::ReceivedNotification rn;
    for (int n = 0; n < kMaxEventsPerPass && election_->Poll(&rn, 0); ++n) {
      if (rn.kind == peer::ReceivedNotification::Kind::kNotification) {
        node_->OnNotification(rn.from, rn.notification);
      } else {
        node_->OnPeerChannel(rn.from, rn.kind == peer::ReceivedNotification::Kind::kChannelUp);
      }
      Drive();
    }
    TakeInbox();
    Drive();
    ForwardsSent();
    node_->Tick(SteadyMs());
    Drive();
    PumpSnaps();
    FlushCore();  // before a read-only role change reaches the core
    MaybeServeReadOnly();
  }
}

// ZooKeeper's Leader.proposalStats (BufferStats): the bytes of each
// proposal's txn, for srvr's "Proposal sizes" and mntr.
void QuorumPeer::NoteProposalSizes(const std::deque<Proposal>& props) {
  std::lock_guard<std::mutex> lock(mu_);
  admin::ServerSnapshot::Sizes& s = status_.proposal_sizes;
  for (const Proposal& p : props) {
    s.last = static_cast<int64_t>(p.bytes.size());
    if (s.min < 0 || s.last < s.min) s.min = s.last;
    s.max = std::max(s.max, s.last);
  }
}

// srst on a leader (any thread): ZooKeeper's proposalStats.reset().
void QuorumPeer::ResetProposalSizes() {
  std::lock_guard<std::mutex> lock(mu_);
  status_.proposal_sizes = {};
}

// The core thread's proposals, forwarded writes and touches.
// (Swapped with this thread's scratch containers, which keep their buffers
// from pass to pass: no allocation per pass.)
void QuorumPeer::TakeInbox() {
  Inbox& in = inbox_;
  std::deque<Proposal>& props = in.props;
  std::deque<ForwardedRequest>& fwds = in.fwds;
  std::vector<std::pair<int64_t, int32_t>>& touches = in.touches;
  std::vector<std::pair<int64_t, int32_t>>& asks = in.asks;
  std::vector<std::pair<int64_t, quorum::RevalidateReply>>& answers = in.answers;
  std::vector<uint64_t>& syncs = in.syncs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    props.swap(to_propose_);
    fwds.swap(to_forward_);
    forwards_in_transit_ = fwds.size();  // until Run's next Drive has sent them
    touches.swap(new_touches_);
    asks.swap(to_revalidate_);
    answers.swap(revalidated_);
    syncs.swap(to_sync_);
  }
  for (auto& [id, timeout_ms] : touches) touches_[id] = timeout_ms;
  if (!props.empty()) NoteProposalSizes(props);
  for (Proposal& p : props) held_props_.push_back(std::move(p));
  ProposeHeld();
  for (ForwardedRequest& f : fwds) {
    quorum::QuorumPacket p;
    p.type = quorum::PacketType::kRequest;
    p.data = quorum::EncodeForwardedRequest({f.session_id, f.cxid, f.type, std::move(f.body)});
    p.authinfo = std::move(f.auth_ids);
    const bool sent = node_->Forward(std::move(p));
    if (sent && f.type == static_cast<int32_t>(proto::OpCode::kSync)) syncs_sent_.emplace_back(f.session_id, f.cxid);
  }
  LearnerSyncs(syncs);  // after the proposals the core made before them
  SendRevalidations(asks, answers);
  props.clear();
  fwds.clear();
  touches.clear();
  asks.clear();
  answers.clear();
  syncs.clear();
}

// The REQUESTs TakeInbox took are in the transport's queue (the Drive after
// it sent them): the core may send its next writes itself again.
void QuorumPeer::ForwardsSent() {
  std::lock_guard<std::mutex> lock(mu_);
  forwards_in_transit_ = 0;
}

// The core's proposals in zxid order. While the node has its maximum of
// proposals outstanding (kBusy: the leader's own clients and two learners'
// forwarded writes can together exceed it) the rest wait here, in order,
// for commits to make room: dropping one would leave a zxid gap that the
// node refuses for every later proposal (kZxidMismatch) while the core
// waits for them forever. The core's and the learners' outstanding limits
// bound this queue.
void QuorumPeer::ProposeHeld() {
  while (!held_props_.empty()) {
    if (node_->proposals_full()) return;
    Proposal& p = held_props_.front();
    const int64_t zxid = p.txn.zxid;
    zab::ProposeStatus st = node_->Propose(zxid, std::move(p.bytes));
    if (st == zab::ProposeStatus::kOk) {
      proposed_.push_back(std::move(p.txn));
    } else {
      // Not leading any more: the write is never committed; the role change
      // resets the core (ZooKeeper closes the clients' connections there too).
      AV_LOG(kWarn, "proposal {:#x} refused by the node ({})", zxid, static_cast<int>(st));
    }
    held_props_.pop_front();
  }
}

void QuorumPeer::OnQuorumEvent(peer::QuorumEvent& ev) {
  using K = peer::QuorumEvent::Kind;
  const bool learner = learner_conns_.count(ev.conn) > 0;
  switch (ev.kind) {
    case K::kConnected:
      if (ev.accepted) {
        learner_conns_.insert(ev.conn);
        node_->OnLearnerConnected(ev.conn);
      } else if (ev.conn == leader_conn_) {
        leader_connected_ = true;
        node_->OnLeaderConnected(ev.conn);
      }
      return;
    case K::kPacket:
      if (learner) {
        if (ev.packet.type == quorum::PacketType::kAckEpoch) NoteLogStart();  // the sync decision follows
        NoteLearnerPacket(ev.conn, ev.packet);
        return node_->OnLearnerPacket(ev.conn, ev.packet);
      }
      if (ev.conn != leader_conn_) return;
      if (ev.packet.type == quorum::PacketType::kDiff || ev.packet.type == quorum::PacketType::kTrunc ||
          ev.packet.type == quorum::PacketType::kSnap) {
        AV_LOG(kInfo, "ensemble: the leader syncs us by {} to {:#x} (we hold {:#x})",
               ev.packet.type == quorum::PacketType::kDiff    ? "DIFF"
               : ev.packet.type == quorum::PacketType::kTrunc ? "TRUNC"
                                                              : "SNAP",
               ev.packet.zxid, applied_);
      }
      if (ev.packet.type == quorum::PacketType::kSnap) {
        pending_snap_ = ev.packet;  // handed to the node once its body is in
        return;
      }
      if (ev.packet.type == quorum::PacketType::kPing) {
        std::vector<quorum::SessionTouch> t;
        for (auto& [id, timeout_ms] : touches_) t.push_back({id, timeout_ms});
        touches_.clear();
        node_->QueueTouches(quorum::EncodeSessionTouches(t));
      }
      return node_->OnLeaderPacket(ev.conn, ev.packet);
    case K::kRawDone:
      if (ev.conn != leader_conn_ || !pending_snap_ || !ev.raw) return;
      snap_.reset(static_cast<SnapReceiver*>(ev.raw.release()));
      node_->OnLeaderPacket(ev.conn, *pending_snap_);
      pending_snap_.reset();
      return;
    case K::kDisconnected:
      if (learner) {
        learner_conns_.erase(ev.conn);
        learner_sids_.erase(ev.conn);
        DropSnap(ev.conn);
        return node_->OnLearnerDisconnected(ev.conn);
      }
      if (ev.conn != leader_conn_) return;
      leader_conn_ = 0;
      if (leader_connected_) return node_->OnLeaderDisconnected(ev.conn);
      return node_->OnLeaderConnectFailed();
  }
}

void QuorumPeer::Fatal(const std::string& why) {
  AV_LOG(kError, "ensemble: {}; stopping (restart the server to recover from its files)", why);
  std::_Exit(3);
}

}  // namespace aviary::server
