// QuorumPeer: the session parts of the quorum protocol, on the consensus
// thread (ZooKeeper's Learner.validateSession / revalidate,
// LearnerHandler's REVALIDATE, Follower.processPacket's SYNC).
//  - learner: the Core's REVALIDATE asks go to the leader (zxid -1: long
//    session id, int timeout); the leader's answer (long session id, boolean
//    valid) goes to Core::OnRevalidateReply. Each SYNC answers the oldest
//    sync() sent to this leader (FIFO); Core::OnSyncDone runs after the
//    txns committed before the SYNC are applied (CoreCall).
//  - leader: a learner's sync() REQUEST goes through the core in order with
//    its writes, then to the node (LearnerSyncs), which sends SYNC once
//    everything proposed before has committed. A learner's REVALIDATE is answered from the Core's session
//    table (Core::RevalidateForLearner, which touches a valid session); the
//    answer returns here through revalidated_ and leaves at the next pass.
#include "base/log.h"
#include "quorum/codec.h"
#include "server/quorum_peer.h"

namespace aviary::server {

// Runs `fn` on the core thread after the txns committed so far in this pass
// (queued with the pass's other core events: FlushCore hands the commits
// over first, and a kCall applies them before it runs).
void QuorumPeer::CoreCall(std::function<void(Core&, int64_t)> fn) {
  CoreEvent ev;
  ev.kind = CoreEvent::Kind::kCall;
  ev.call = std::move(fn);
  to_core_events_.push_back(std::move(ev));
}

void QuorumPeer::OnRevalidate(const zab::HostPacket& h) {
  const quorum::QuorumPacket& p = h.packet;
  if (node_->role() != zab::Role::kLeading) {
    auto reply = quorum::DecodeRevalidateReply(p.data);
    if (!reply) return;  // malformed: the Core's deadline closes the client
    CoreCall([r = *reply](Core& c, int64_t now_ms) { c.OnRevalidateReply(r.session_id, r.valid, now_ms); });
    return;
  }
  auto rq = quorum::DecodeRevalidateRequest(p.data);
  if (!rq) return;  // hostile or broken: the learner's client times out
  const int64_t sid = h.from;
  CoreCall([this, sid, q = *rq](Core& c, int64_t now_ms) {
    const bool valid = c.RevalidateForLearner(q.session_id, q.timeout_ms, now_ms);
    std::lock_guard<std::mutex> lock(mu_);
    revalidated_.emplace_back(sid, quorum::RevalidateReply{q.session_id, valid});
  });
}

void QuorumPeer::SyncsDone(int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    if (syncs_sent_.empty()) {
      AV_LOG(kWarn, "ensemble: SYNC from the leader with no sync() outstanding: ignored");
      return;
    }
    auto [session_id, cxid] = syncs_sent_.front();
    syncs_sent_.pop_front();
    CoreCall([session_id, cxid](Core& c, int64_t) { c.OnSyncDone(session_id, cxid); });
  }
}

// A learner's sync() reached the leader's core after the writes forwarded
// before it were proposed: ZooKeeper's leader answers that learner with SYNC
// once what it proposed so far is committed (Leader.processSync); the node
// keeps those pending syncs.
void QuorumPeer::LearnerSyncs(const std::vector<uint64_t>& conns) {
  for (uint64_t conn : conns) node_->OnLearnerPacket(conn, {quorum::PacketType::kSync, 0, {}, false, {}});
}

void QuorumPeer::SendRevalidations(std::vector<std::pair<int64_t, int32_t>>& asks,
                                   std::vector<std::pair<int64_t, quorum::RevalidateReply>>& answers) {
  for (const auto& [session_id, timeout_ms] : asks) {
    quorum::QuorumPacket p;
    p.type = quorum::PacketType::kRevalidate;
    p.zxid = -1;
    p.data = quorum::EncodeRevalidateRequest({session_id, timeout_ms});
    node_->Forward(std::move(p));  // not serving: the Core's deadline closes the client
  }
  for (const auto& [sid, reply] : answers) {
    quorum::QuorumPacket p;
    p.type = quorum::PacketType::kRevalidate;
    p.zxid = -1;
    p.data = quorum::EncodeRevalidateReply(reply);
    node_->SendToLearner(sid, std::move(p));
  }
}

}  // namespace aviary::server
