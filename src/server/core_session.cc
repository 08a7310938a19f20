// Session lifecycle on the core thread: handshake (new session through a
// createSession txn, or re-attach with id + password), connection loss,
// closeSession, expiry, and the periodic container / TTL sweep.
#include <algorithm>

#include "base/check.h"
#include "base/log.h"
#include "metrics/server_metrics.h"
#include "proto/codec.h"
#include "server/core_state.h"

namespace aviary::server {

using proto::Err;
using proto::OpCode;

void Core::OnOpened(const CoreEvent& ev) {
  auto c = std::make_unique<Conn>();
  static_assert(sizeof(Conn) <= 184, "core Conn grew past one 192-byte malloc chunk (idle-session memory)");
  c->id = ev.conn;
  c->ctx.ids = IpIdentity(ev.text.substr(0, ev.text.rfind(':')));
  c->SetPeer(ev.text);
  // X509AuthenticationProvider.handleAuthentication: a verified client
  // certificate is the connection's ("x509", subject DN), and also
  // ("super", DN) when it is X509AuthenticationProvider.superUser.
  if (!ev.x509_subject.empty() && ev.x509_subject.size() <= kMaxAuthIdBytes) {
    if (ev.x509_subject == opts_.config.x509_super_user) {
      c->ctx.ids.push_back(proto::Id{"super", ev.x509_subject});
      AV_LOG(kInfo, "Authenticated Id '{}' as super user", ev.x509_subject);
    }
    c->ctx.ids.push_back(proto::Id{"x509", ev.x509_subject});
    AV_LOG(kInfo, "Authenticated Id '{}' for Scheme 'x509' ({})", ev.x509_subject, c->peer());
  } else if (!ev.x509_subject.empty()) {
    AV_LOG(kWarn, "{}: client certificate subject longer than {} bytes; no x509 identity", c->peer(), kMaxAuthIdBytes);
  }
  c->opened_ms = clock_->SteadyMs();
  conns_[ev.conn] = std::move(c);
}

txn::IdList Core::IpIdentity(const std::string& ip) {
  txn::IdList& slot = ip_ids_[std::hash<std::string>{}(ip) % kIpIdSlots];
  if (slot.size() != 1 || slot.front().id != ip) slot = std::vector<proto::Id>{proto::Id{"ip", ip}};
  return slot;
}

void Core::SendConnectResponse(net::ConnId conn, const proto::ConnectResponse& rsp, bool close_after) {
  net::ConnectionServer::Out o;
  o.conn = conn;
  proto::EncodeConnectResponse(rsp, &o.bytes);
  o.close_after = close_after;
  out_.push_back(std::move(o));
  ++packets_sent_;
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  ++it->second->sent;  // ZooKeeper counts the ConnectResponse as a packet sent
  NoteReplyStats(*it->second, proto::ReplyHeader{0, applied_zxid_, 0}, -1);  // "SESS"
}

void Core::OnConnect(CoreEvent& ev, int64_t now_ms) {
  auto it = conns_.find(ev.conn);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  ++packets_received_;
  metrics::Server().connection_request_count.Add();
  ++c.received;
  const proto::ConnectRequest& req = ev.connect;
  if (role_.load(std::memory_order_relaxed) == ServingRole::kNotServing) {
    // As ZooKeeper's "ZooKeeperServer not running": LOOKING or syncing.
    AV_LOG(kInfo, "closing {}: this server is not serving (no leader yet or still syncing)", c.peer());
    CloseConn(c);
    return;
  }
  if (role_.load(std::memory_order_relaxed) == ServingRole::kReadOnly) {
    ConnectReadOnly(c, req, sessions_.Negotiate(req.timeOut), now_ms);  // core_read_only.cc
    return;
  }
  const int64_t last_zxid = std::max(applied_zxid_, sequencer_->last_proposed());
  if (req.lastZxidSeen > last_zxid) {
    AV_LOG(kWarn,
           "Refusing session request for client {} as it has seen zxid {:#x} our last zxid is {:#x}; client must try "
           "another server",
           c.peer(), req.lastZxidSeen, last_zxid);
    CloseConn(c);
    return;
  }
  int32_t timeout = sessions_.Negotiate(req.timeOut);
  if (req.sessionId == 0 && LocalSessionsOn()) {
    // localSessionsEnabled: a local session, no txn (core_local_session.cc).
    const int64_t id = NewLocalSession(c, timeout, now_ms);
    if (id == 0) return;
    AttachSession(c, id, timeout, req.has_read_only, now_ms);
    RecordLatency(ev.received_us, proto::OpCode::kNotification);  // no txn: readlatency
    return;
  }
  if (req.sessionId == 0) {
    if (committer_->ReadOnly()) {
      // A session needs a durable createSession txn; the log cannot take one.
      AV_LOG(kWarn, "refusing new session from {}: the transaction log has failed", c.peer());
      CloseConn(c);
      return;
    }
    // aviary.maxSessions is enforced here, before a zxid is taken: a
    // refused session is never logged, so recovery cannot bring it back,
    // and the session table can always take what is committed. Sessions
    // count from their createSession's proposal to their close's apply.
    if (sessions_.size() + creating_.size() >= sessions_.max_sessions()) {
      AV_LOG(kWarn, "session limit {} reached; refusing new session from {}", sessions_.max_sessions(), c.peer());
      CloseConn(c);
      return;
    }
    int64_t id = sessions_.NextSessionId(clock_->WallMs());
    while (sessions_.Find(id) != nullptr || creating_.count(id) != 0) {
      id = sessions_.NextSessionId(clock_->WallMs());  // clock went back
    }
    creating_[id] = PendingCreate{c.id, timeout, ev.received_us, req.has_read_only};
    c.handshaking = true;
    sequencer_->CreateSession(id, timeout, clock_->WallMs());
    return;
  }
  Reattach(c, req, timeout, now_ms);
}

void Core::AddSession(const txn::SessionChange& ch, int64_t now_ms) {
  if (AdoptUpgraded(ch, now_ms)) return;  // a local session of ours, now global
  // The session table takes every committed session, past aviary.maxSessions
  // if need be (that cap is enforced when a createSession is prepared).
  const bool added = sessions_.Restore(ch.session_id, ch.timeout_ms, now_ms);
  AV_CHECK(added, "committed createSession {:#x} refused by the session tracker: it is tracked already", ch.session_id);
  session_state_[ch.session_id] = Session{};
  session_state_[ch.session_id].id = ch.session_id;
}

void Core::FinishCreateSession(const txn::Txn& t, const PendingCreate& in, int64_t now_ms) {
  Session& st = session_state_[t.session_id];
  auto it = conns_.find(in.conn);
  if (it != conns_.end()) {
    Conn& c = *it->second;
    c.handshaking = false;
    c.session = t.session_id;
    st.conn = c.id;
    proto::ConnectResponse rsp;
    rsp.has_read_only = in.has_read_only;
    rsp.timeOut = in.timeout_ms;
    rsp.sessionId = t.session_id;
    rsp.passwd = sessions_.PasswordFor(t.session_id);
    SendConnectResponse(c.id, rsp, false);
    RecordLatency(in.received_us, proto::OpCode::kCreateSession);
    AV_LOG(kInfo, "Established session {:#x} with negotiated timeout {} ms for client {}", t.session_id, in.timeout_ms,
           c.peer());
  }
  if (it != conns_.end()) ReleaseHeld(*it->second, now_ms);
}

// Runs after a closeSession txn (client request or expiry) has been applied.
void Core::FinishCloseSession(const txn::Txn& t, int64_t /*now_ms*/) {
  auto it = session_state_.find(t.session_id);
  if (it != session_state_.end()) {
    net::ConnId conn = it->second.conn;
    if (conn != 0) {
      auto c = conns_.find(conn);
      if (c != conns_.end()) {
        c->second->session = 0;
        watches_.RemoveAll(static_cast<int64_t>(conn));
      }
    }
    DropQueue(it->second);
    session_state_.erase(it);
  }
  sessions_.Remove(t.session_id);
}

void Core::DetachConn(Conn& c) {
  watches_.RemoveAll(static_cast<int64_t>(c.id));
  if (c.session != 0) {
    auto it = session_state_.find(c.session);
    if (it != session_state_.end() && it->second.conn == c.id) it->second.conn = 0;
  }
  c.session = 0;
}

void Core::OnClosed(net::ConnId conn) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  // ZooKeeper's connection_drop_count: the client went away (read EOF or
  // error), not a close the server chose.
  if (!it->second->closing) metrics::Server().connection_drop_count.Add();
  DetachConn(*it->second);
  DropHeld(*it->second);
  // Frames answered in this pass are handed back all the same (Flush).
  if (it->second->pass_consumed != 0) credit_gone_.emplace_back(conn, it->second->pass_consumed);
  conns_.erase(it);
}

}  // namespace aviary::server
