// Local sessions in an ensemble (localSessionsEnabled), as Apache ZooKeeper
// 3.8's UpgradeableSessionTracker, LeaderSessionTracker,
// LearnerSessionTracker and QuorumZooKeeperServer.checkUpgradeSession:
//  - every new session of a leader or learner is local: no createSession txn,
//    tracked and expired only on this member (the leader hands its local
//    expiries back: Sequencer::TakeExpiredLocal; a learner pops them here),
//    its close answered here (no closeSession txn), after the writes it sent
//    before; ids keep the server byte, so they are unique in the ensemble;
//  - its writes go to the leader as any (the leader runs the requests of
//    another member's local sessions: LeaderSequencer::CheckForwardedSession);
//  - a create / create2 with CreateMode EPHEMERAL or EPHEMERAL_SEQUENTIAL, or
//    a multi with one, needs a global session: with
//    localSessionsUpgradingEnabled the session is upgraded first (a
//    createSession with its timeout, proposed or forwarded ahead of the
//    write; applied, it is global on every member, AdoptUpgraded); without,
//    the create fails with EPHEMERALONLOCALSESSION (-120);
//  - a local session re-attaches only on its member; elsewhere the leader
//    calls it invalid (REVALIDATE: RevalidateForLearner) and it is expired;
//  - a role change ends every local session (ZooKeeper starts a new server).
// Standalone servers and read-only mode are unaffected (read-only mode has
// its own local sessions: core_read_only.cc).
#include "base/log.h"
#include "server/core_state.h"

namespace aviary::server {

using proto::Err;
using proto::OpCode;

namespace {

// CreateMode.isEphemeral(): EPHEMERAL (1) and EPHEMERAL_SEQUENTIAL (3).
bool EphemeralFlags(int32_t flags) { return flags == 1 || flags == 3; }

// checkUpgradeSession's test: create / create2 (alone or in a multi) with an
// ephemeral mode. Containers and TTL nodes do not count, as in ZooKeeper.
bool CreatesEphemeral(const proto::Request& req) {
  if (req.op() == OpCode::kCreate || req.op() == OpCode::kCreate2) {
    const auto* r = std::get_if<proto::CreateRequest>(&req.body);
    return r != nullptr && EphemeralFlags(r->flags);
  }
  if (req.op() != OpCode::kMulti) return false;
  const auto* m = std::get_if<proto::MultiRequest>(&req.body);
  if (m == nullptr) return false;
  for (const proto::MultiOp& op : m->ops) {
    if (op.type != OpCode::kCreate && op.type != OpCode::kCreate2) continue;
    const auto* r = std::get_if<proto::CreateRequest>(&op.body);
    if (r != nullptr && EphemeralFlags(r->flags)) return true;
  }
  return false;
}

}  // namespace

bool Core::LocalSessionsOn() const {
  const ServingRole role = role_.load(std::memory_order_relaxed);
  return opts_.config.local_sessions_enabled && (role == ServingRole::kLeader || role == ServingRole::kFollower);
}

bool Core::LocalSessionWrite(Session& s, Conn& c, CoreEvent& ev, Err* local_err) {
  const proto::Request& req = ev.request;
  if (req.op() == OpCode::kCloseSession) {
    s.closing = true;
    sessions_.SetClosing(s.id);
    if (s.queue.empty()) {
      Credit(c);
      FinishLocalClose(s, c.id, req.header.xid, ev.received_us);
      return true;
    }
    if (!ChargeQueued(c, ev.bytes)) return true;
    Pending p;
    p.conn = c.id;
    p.local_close = true;
    p.request.header = req.header;
    p.received_us = ev.received_us;
    p.bytes = ev.bytes;
    Enqueue(s, std::move(p));
    return true;
  }
  if (!CreatesEphemeral(req)) return false;
  if (opts_.config.local_sessions_upgrading_enabled) {
    UpgradeSession(s);
  } else {
    AV_LOG(kInfo, "ephemeral create of local session {:#x} refused: localSessionsUpgradingEnabled is false", s.id);
    *local_err = Err::kEphemeralOnLocalSession;
  }
  return false;
}

void Core::UpgradeSession(Session& s) {
  const session::Session* t = sessions_.Find(s.id);
  const int32_t timeout_ms = t != nullptr ? t->timeout_ms : sessions_.min_timeout_ms();
  AV_LOG(kInfo, "Upgrading session {:#x}", s.id);
  local_sessions_.erase(s.id);
  upgrading_.insert(s.id);
  sequencer_->CreateSession(s.id, timeout_ms, clock_->WallMs());
}

void Core::FinishLocalClose(Session& s, net::ConnId conn, int32_t xid, int64_t received_us) {
  const int64_t id = s.id;
  auto it = conns_.find(conn);
  if (it != conns_.end()) {
    AV_LOG(kInfo, "closing local session {:#x} of {}", id, it->second->peer());
    SendReply(conn, proto::ReplyHeader{xid, applied_zxid_, 0}, proto::Empty{}, received_us, /*close_after=*/true);
    if (it->second->session == id) DetachConn(*it->second);
  }
  ForgetLocalSession(id);
}

bool Core::AdoptUpgraded(const txn::SessionChange& ch, int64_t now_ms) {
  const int64_t id = ch.session_id;
  const bool ours = upgrading_.erase(id) + local_sessions_.erase(id) != 0;
  if (!ours) return false;
  auto st = session_state_.find(id);
  if (sessions_.Find(id) == nullptr || st == session_state_.end()) {
    // Forgotten meanwhile: taken as any other session.
    if (st != session_state_.end()) {
      DropQueue(st->second);
      session_state_.erase(st);
    }
    sessions_.Remove(id);
    return false;
  }
  AV_LOG(kInfo, "Committing global session {:#x}", id);
  sessions_.Touch(id, now_ms, ch.timeout_ms);
  return true;
}

}  // namespace aviary::server
