// What a client of a learner (follower or observer) needs from the leader,
// on the core thread (ZooKeeper's Learner.validateSession / revalidate and
// FollowerRequestProcessor's sync):
//  - re-attach: a session that is not attached to a connection here is
//    revalidated with the leader (REVALIDATE); the ConnectResponse waits for
//    the answer: valid -> connected, invalid -> session expired, no answer
//    within the session timeout -> the connection is closed (the client
//    tries again). The leader answers from its session table
//    (RevalidateForLearner) and touches the session.
//  - sync(): forwarded to the leader as a REQUEST; it waits in its session's
//    FIFO like a write until the leader's SYNC (after the COMMITs before it)
//    marks it done, so its reply overtakes no earlier write of the session
//    and waits for no later one.
#include <algorithm>

#include "base/log.h"
#include "metrics/server_metrics.h"
#include "server/core_state.h"

namespace aviary::server {

void Core::RefuseSession(Conn& c, bool has_read_only) {
  proto::ConnectResponse rsp;
  rsp.has_read_only = has_read_only;
  rsp.passwd.assign(16, '\0');
  SendConnectResponse(c.id, rsp, /*close_after=*/true);
}

void Core::Reattach(Conn& c, const proto::ConnectRequest& req, int32_t timeout_ms, int64_t now_ms) {
  const session::Session* s = sessions_.Find(req.sessionId);
  const bool closing = s != nullptr && s->closing;
  if (closing || !sessions_.CheckPassword(req.sessionId, req.passwd)) {
    AV_LOG(kInfo, "Invalid session {:#x} for client {}, probably expired", req.sessionId, c.peer());
    return RefuseSession(c, req.has_read_only);
  }
  auto st = session_state_.find(req.sessionId);
  const bool attached_here = st != session_state_.end() && st->second.conn != 0;
  // A local session of this member re-attaches here (ZooKeeper's
  // LearnerZooKeeperServer.revalidateSession).
  if (follower_ != nullptr && forwarder_ != nullptr && !attached_here && !IsLocalHere(req.sessionId)) {
    StartRevalidation(c, req, timeout_ms, now_ms);
    return;
  }
  if (s == nullptr) {
    AV_LOG(kInfo, "Invalid session {:#x} for client {}, probably expired", req.sessionId, c.peer());
    return RefuseSession(c, req.has_read_only);
  }
  AttachSession(c, req.sessionId, timeout_ms, req.has_read_only, now_ms);
}

void Core::AttachSession(Conn& c, int64_t session_id, int32_t timeout_ms, bool has_read_only, int64_t now_ms) {
  sessions_.Touch(session_id, now_ms, timeout_ms);
  sequencer_->Touched(session_id);
  Session& st = session_state_[session_id];
  if (st.conn != 0 && st.conn != c.id) {
    auto old = conns_.find(st.conn);
    if (old != conns_.end()) {
      AV_LOG(kInfo, "session {:#x} moved from {} to {}", session_id, old->second->peer(), c.peer());
      DetachConn(*old->second);
      CloseConn(*old->second);
    }
  }
  st.conn = c.id;
  c.session = session_id;
  AV_LOG(kInfo, "Re-attached session {:#x} with negotiated timeout {} ms for client {}", session_id, timeout_ms,
         c.peer());
  proto::ConnectResponse rsp;
  rsp.has_read_only = has_read_only;
  rsp.timeOut = timeout_ms;
  rsp.sessionId = session_id;
  rsp.passwd = sessions_.PasswordFor(session_id);
  SendConnectResponse(c.id, rsp, false);
}

bool Core::StartRevalidation(Conn& c, const proto::ConnectRequest& req, int32_t timeout_ms, int64_t now_ms) {
  auto prev = revalidating_.find(req.sessionId);
  if (prev != revalidating_.end()) {
    // One answer per session id (ZooKeeper keys pendingRevalidations so):
    // the older handshake gives way.
    auto old = conns_.find(prev->second.conn);
    if (old != conns_.end() && old->second->session == 0) CloseConn(*old->second);
    revalidating_.erase(prev);
  } else if (revalidating_.size() >= kMaxRevalidations) {
    AV_LOG(kWarn, "closing {}: {} session revalidations outstanding", c.peer(), revalidating_.size());
    CloseConn(c);
    return false;
  }
  revalidating_[req.sessionId] = PendingRevalidation{c.id, timeout_ms, req.has_read_only, now_ms + timeout_ms};
  c.handshaking = true;  // requests behind the handshake are held until the answer
  AV_LOG(kInfo, "revalidating session {:#x} of client {} with the leader", req.sessionId, c.peer());
  forwarder_->Revalidate(req.sessionId, timeout_ms);
  return true;
}

void Core::OnRevalidateReply(int64_t session_id, bool valid, int64_t now_ms) {
  auto it = revalidating_.find(session_id);
  if (it == revalidating_.end()) return;  // timed out, or answered already
  const PendingRevalidation pr = it->second;
  revalidating_.erase(it);
  auto cit = conns_.find(pr.conn);
  if (cit == conns_.end() || cit->second->closing) return;
  Conn& c = *cit->second;
  c.handshaking = false;
  const session::Session* s = sessions_.Find(session_id);
  if (!valid || (s != nullptr && s->closing)) {
    AV_LOG(kInfo, "Invalid session {:#x} for client {}, probably expired (the leader says so)", session_id, c.peer());
    DropHeld(c);
    return RefuseSession(c, pr.has_read_only);
  }
  if (s == nullptr || session_state_.count(session_id) == 0) {
    // Valid at the leader, not yet created here: the client tries again.
    AV_LOG(kInfo, "closing {}: session {:#x} is valid at the leader but not applied here yet", c.peer(), session_id);
    return CloseConn(c);
  }
  AttachSession(c, session_id, pr.timeout_ms, pr.has_read_only, now_ms);
  ReleaseHeld(c, now_ms);
}

void Core::ExpireRevalidations(int64_t now_ms) {
  for (auto it = revalidating_.begin(); it != revalidating_.end();) {
    if (it->second.deadline_ms > now_ms) {
      ++it;
      continue;
    }
    auto c = conns_.find(it->second.conn);
    if (c != conns_.end() && c->second->session == 0) {
      AV_LOG(kWarn, "closing {}: no answer from the leader to revalidating session {:#x}", c->second->peer(),
             it->first);
      CloseConn(*c->second);
    }
    it = revalidating_.erase(it);
  }
}

bool Core::RevalidateForLearner(int64_t session_id, int32_t timeout_ms, int64_t now_ms) {
  metrics::Server().revalidate_count.Add();  // ZooKeeper's LearnerHandler counts each REVALIDATE
  const session::Session* s = sessions_.Find(session_id);
  if (s == nullptr || s->closing) return false;
  // A local session cannot move to another member (checkIfValidGlobalSession).
  if (local_sessions_.count(session_id) != 0) return false;
  return sessions_.Touch(session_id, now_ms, timeout_ms);
}

bool Core::ForwardSync(Session& s, Conn& c, CoreEvent& ev) {
  if (follower_ == nullptr) return false;  // leader, standalone: answered here
  WriteRequest w;
  w.session_id = c.session;
  w.request = &ev.request;
  w.ctx = &CtxOf(c);
  if (!ChargeQueued(c, ev.bytes)) return true;  // closing
  follower_->ForwardSync(w);
  Pending p;
  p.conn = c.id;
  p.is_write = true;
  p.is_sync = true;
  p.request = std::move(ev.request);
  p.received_us = ev.received_us;
  p.bytes = ev.bytes;
  Enqueue(s, std::move(p));
  return true;
}

void Core::OnForwarded(const ForwardedRequest& f) {
  if (f.type != static_cast<int32_t>(proto::OpCode::kSync)) return sequencer_->Forwarded(f, clock_->WallMs());
  if (role_.load(std::memory_order_relaxed) == ServingRole::kLeader && forwarder_ != nullptr) {
    forwarder_->AnswerLearnerSync(f.learner_conn);
  }
}

void Core::OnSyncDone(int64_t session_id, int32_t xid) {
  auto it = session_state_.find(session_id);
  if (it == session_state_.end()) return;  // closed meanwhile
  Session& s = it->second;
  for (Pending& p : s.queue) {
    if (p.is_sync && !p.sync_done && p.request.header.xid == xid) {
      p.sync_done = true;
      break;
    }
  }
  DrainSession(s);
}

void Core::CompleteSyncsBefore(Session& s, const txn::Txn& t) {
  if (s.queue.empty() || !s.queue.front().is_sync || s.queue.front().sync_done) return;
  auto write = std::find_if(s.queue.begin(), s.queue.end(), [](const Pending& p) { return p.is_write && !p.is_sync; });
  if (write == s.queue.end() || write->zxid != 0 || write->request.header.xid != t.cxid) return;
  for (auto it = s.queue.begin(); it != write; ++it) {
    if (it->is_sync) it->sync_done = true;
  }
  DrainSession(s);
}

}  // namespace aviary::server
