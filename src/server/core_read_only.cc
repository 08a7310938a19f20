// Read-only mode (ServingRole::kReadOnly): an ensemble member that has lost
// its quorum for longer than the read-only delay, with readonlymode.enabled,
// serves as Apache ZooKeeper 3.8's ReadOnlyZooKeeperServer does:
//  - only clients that set canBeReadOnly (ConnectRequest.readOnly) are
//    served; any other connection is closed ("Refusing session request for
//    not-read-only client"); a client that saw a newer zxid is refused too;
//  - a new session is local to this server (LearnerSessionTracker with local
//    sessions): no createSession txn, never replicated, expired here, gone
//    when read-only mode ends;
//  - a session of the ensemble that owns ephemerals is refused ("Refusing
//    global session reconnection in RO mode", ZOOKEEPER-3863): its owner
//    must not believe it holds them while the quorum side may expire it.
//    Any other global session of the ensemble is served read-only, never
//    expired or closed here: its expiry stays the leader's (the local
//    sessions of localSessionsEnabled ended with the role change);
//  - the ConnectResponse says readOnly=true; reads run on this server's
//    tree; sync and every write (create*, delete, setData, setACL, check,
//    multi, reconfig, createSession, and closeSession of a session of the
//    ensemble) are answered NOTREADONLY (-119) with the last applied zxid,
//    as ReadOnlyRequestProcessor; a local session's closeSession closes it.
#include "base/log.h"
#include "server/core_state.h"

namespace aviary::server {

using proto::Err;
using proto::OpCode;

void Core::ConnectReadOnly(Conn& c, const proto::ConnectRequest& req, int32_t timeout_ms, int64_t now_ms) {
  if (!req.readOnly) {
    AV_LOG(kInfo, "Refusing session request for not-read-only client {}", c.peer());
    CloseConn(c);
    return;
  }
  if (req.lastZxidSeen > applied_zxid_) {
    AV_LOG(kWarn,
           "Refusing session request for client {} as it has seen zxid {:#x} our last zxid is {:#x}; client must try "
           "another server",
           c.peer(), req.lastZxidSeen, applied_zxid_);
    CloseConn(c);
    return;
  }
  const int64_t id = req.sessionId == 0 ? NewLocalSession(c, timeout_ms, now_ms) : ReattachReadOnly(c, req);
  if (id == 0) return;
  sessions_.Touch(id, now_ms, timeout_ms);
  session_state_[id].conn = c.id;
  c.session = id;
  proto::ConnectResponse rsp;
  rsp.has_read_only = req.has_read_only;
  rsp.readOnly = true;
  rsp.timeOut = timeout_ms;
  rsp.sessionId = id;
  rsp.passwd = sessions_.PasswordFor(id);
  SendConnectResponse(c.id, rsp, false);
}

int64_t Core::NewLocalSession(Conn& c, int32_t timeout_ms, int64_t now_ms) {
  if (sessions_.size() >= sessions_.max_sessions()) {
    AV_LOG(kWarn, "session limit {} reached; refusing new session from {}", sessions_.max_sessions(), c.peer());
    CloseConn(c);
    return 0;
  }
  int64_t id = 0;
  do {
    id = sessions_.NextSessionId(clock_->WallMs());
  } while (sessions_.Find(id) != nullptr || session_state_.count(id) != 0);
  sessions_.Add(id, timeout_ms, now_ms);
  local_sessions_.insert(id);
  session_state_[id] = Session{};
  session_state_[id].id = id;
  AV_LOG(kInfo, "{}local session {:#x} for {}",
         role_.load(std::memory_order_relaxed) == ServingRole::kReadOnly ? "read-only mode: " : "", id, c.peer());
  return id;
}

int64_t Core::ReattachReadOnly(Conn& c, const proto::ConnectRequest& req) {
  const int64_t id = req.sessionId;
  const bool local = local_sessions_.count(id) != 0;
  const bool global = sm_.sessions().count(id) != 0;
  if (global && !tree_.EphemeralsOf(id).empty()) {
    AV_LOG(kInfo, "Refusing global session reconnection in RO mode {} (session {:#x} owns ephemerals)", c.peer(), id);
    CloseConn(c);
    return 0;
  }
  const session::Session* s = sessions_.Find(id);
  auto st = session_state_.find(id);
  if (!(local || global) || s == nullptr || s->closing || st == session_state_.end() ||
      !sessions_.CheckPassword(id, req.passwd)) {
    AV_LOG(kInfo, "Invalid session {:#x} for client {}, probably expired", id, c.peer());
    proto::ConnectResponse rsp;
    rsp.has_read_only = req.has_read_only;
    rsp.readOnly = true;
    rsp.passwd.assign(16, '\0');
    SendConnectResponse(c.id, rsp, /*close_after=*/true);
    return 0;
  }
  if (st->second.conn != 0 && st->second.conn != c.id) {
    auto old = conns_.find(st->second.conn);
    if (old != conns_.end()) {
      AV_LOG(kInfo, "session {:#x} moved from {} to {}", id, old->second->peer(), c.peer());
      DetachConn(*old->second);
      CloseConn(*old->second);
    }
  }
  return id;
}

bool Core::FilterReadOnly(Conn& c, Session& s, CoreEvent& ev) {
  const proto::Request& req = ev.request;
  if (RefusedReadOnly(req.op(), s)) {
    ev.decode_err = Err::kNotReadOnly;  // answered in FIFO order, as a read
    return false;
  }
  if (req.op() != OpCode::kCloseSession) return false;
  Credit(c);
  CloseLocalSession(s, c, req, ev.received_us);
  return true;
}

bool Core::RefusedReadOnly(OpCode op, const Session& s) const {
  if (op == OpCode::kSync) return true;
  if (op == OpCode::kCloseSession) return local_sessions_.count(s.id) == 0;
  return IsWrite(op);
}

void Core::CloseLocalSession(Session& s, Conn& c, const proto::Request& req, int64_t received_us) {
  DrainSession(s);  // reads that waited before it (none can wait in this mode)
  AV_LOG(kInfo, "read-only mode: closing local session {:#x} of {}", s.id, c.peer());
  const int64_t id = s.id;
  SendReply(c.id, proto::ReplyHeader{req.header.xid, applied_zxid_, 0}, proto::Empty{}, received_us,
            /*close_after=*/true);
  DetachConn(c);
  ForgetLocalSession(id);
}

void Core::ForgetLocalSession(int64_t id) {
  auto it = session_state_.find(id);
  if (it != session_state_.end()) {
    DropQueue(it->second);
    session_state_.erase(it);
  }
  sessions_.Remove(id);
  local_sessions_.erase(id);
}

void Core::ExpireLocalSessions(int64_t now_ms) {
  for (int64_t id : sessions_.PopExpired(now_ms)) {
    if (local_sessions_.count(id) == 0) {
      // The ensemble's session: not ours to expire (ZOOKEEPER-3863); it
      // stays tracked, untouched, for when a leader is back.
      auto t = sm_.sessions().find(id);
      const session::Session* s = sessions_.Find(id);
      const int32_t timeout_ms = t != sm_.sessions().end() ? t->second : s != nullptr ? s->timeout_ms : 0;
      sessions_.Remove(id);
      sessions_.Restore(id, timeout_ms > 0 ? timeout_ms : sessions_.min_timeout_ms(), now_ms);
      continue;
    }
    ExpireLocal(id);
  }
}

void Core::ExpireLocal(int64_t id) {
  AV_LOG(kInfo, "Expiring local session {:#x}", id);
  auto st = session_state_.find(id);
  if (st != session_state_.end() && st->second.conn != 0) {
    auto c = conns_.find(st->second.conn);
    if (c != conns_.end()) {
      DetachConn(*c->second);
      CloseConn(*c->second);
    }
  }
  ForgetLocalSession(id);
}

void Core::DropLocalSessions() {
  if (!local_sessions_.empty()) AV_LOG(kInfo, "role change: {} local sessions end", local_sessions_.size());
  std::vector<int64_t> ids(local_sessions_.begin(), local_sessions_.end());
  for (int64_t id : upgrading_) {
    if (sm_.sessions().count(id) == 0) ids.push_back(id);  // its createSession never applied
  }
  upgrading_.clear();
  for (int64_t id : ids) ForgetLocalSession(id);
}

}  // namespace aviary::server
