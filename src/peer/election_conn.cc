// ElectionTransport: connecting, the handshake and its larger-id rule, frame
// reading and the per-peer send slot (election_transport.h).
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "peer/election_internal.h"

namespace aviary::peer {
namespace {

constexpr size_t kReadChunkBytes = 64 * 1024;
constexpr size_t kReadBudgetBytes = 1024 * 1024;  // per readiness, fairness

uint32_t BigEndian32(const std::string& s, size_t at) {
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(s[at + i])); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

}  // namespace

std::string ElectionTransport::HandshakeBytes() const {
  quorum::InitialMessage m;
  m.protocol_version = config_.protocol_version;
  m.sid = config_.my_id;
  std::string host = config_.advertised_host.empty() ? config_.listen_host : config_.advertised_host;
  m.addresses.push_back({host, bound_port_ > 0 ? bound_port_ : config_.listen_port});
  std::string out;
  quorum::EncodeInitialMessage(m, &out);
  return out;
}

void ElectionTransport::ConnectSid(ServerId sid) {
  if (connecting_.count(sid)) {
    // Asked again while an attempt is in flight: the peer may have come up
    // since that attempt started, so try once more if this one fails.
    retry_after_failure_.insert(sid);
    return;
  }
  if (sid == config_.my_id || established_.count(sid)) return;
  for (const ElectionMember& m : config_.members) {
    if (m.id == sid) {
      StartConnect(sid, m.host, m.port);
      return;
    }
  }
  AV_LOG(kWarn, "election: no address for server {}; waiting for it to connect", sid);
}

void ElectionTransport::StartConnect(ServerId sid, const std::string& host, int port) {
  if (sid == config_.my_id || established_.count(sid) || connecting_.count(sid)) return;
  SocketResult r = peer::StartConnect(host, port);
  if (!r.fd.valid()) {
    AV_LOG(kWarn, "election: cannot open channel to {} at {}:{}: {}", sid, host, port, r.error);
    return;
  }
  auto c = std::make_unique<Conn>();
  c->id = next_conn_id_++;
  c->fd = std::move(r.fd);
  c->peer = host + ":" + std::to_string(port);
  c->outgoing = true;
  c->sid = sid;
  c->deadline_ms = NowMs() + config_.connect_timeout_ms;
  connecting_.insert(sid);
  conns_[c->id] = std::move(c);
}

void ElectionTransport::OnConnectDone(Conn& c) {
  int err = ConnectError(c.fd.get());
  connecting_.erase(c.sid);
  if (err != 0) {
    AV_LOG(kWarn, "election: cannot open channel to {} at {}: {}", c.sid, c.peer, std::strerror(err));
    CloseConn(c, "connect failed");
    return;
  }
  retry_after_failure_.erase(c.sid);
  c.deadline_ms = 0;
  if (c.sid > config_.my_id) ReportChannel(c.sid, true);  // it listens (Establish reports the other case)
  std::string why;
  c.tls = config_.tls.ForConnect(c.peer.substr(0, c.peer.rfind(':')), &why);
  if (!why.empty()) {
    AV_LOG(kWarn, "election: cannot start a TLS handshake with {} at {}: {}", c.sid, c.peer, why);
    CloseConn(c, "TLS failure");
    return;
  }
  c.tls_deadline_ms = NowMs() + config_.tls.handshake_timeout_ms;
  c.out = HandshakeBytes();
  c.out_pos = 0;
  if (config_.sasl != nullptr && config_.sasl->LearnerAuthenticates() && !config_.non_voters.count(c.sid)) {
    // SaslQuorumAuthLearner after the InitialMessage, whichever id is larger.
    c.auth_learner = std::make_unique<QuorumAuthLearner>(*config_.sasl);
    if (c.auth_learner->Start(&c.out) == QuorumAuthLearner::Result::kFailure) {
      AV_LOG(kWarn, "election: quorum SASL to server {} at {} cannot start: {}", c.sid, c.peer,
             c.auth_learner->error());
      CloseConn(c, "quorum SASL failure");
      return;
    }
    c.state = Conn::State::kAuthenticating;
    c.deadline_ms = NowMs() + std::max(config_.handshake_timeout_ms, config_.sasl->settings.timeout_ms);
    OnWritable(c);
    return;
  }
  AfterHandshakeSent(c);
  OnWritable(c);
}

void ElectionTransport::AfterHandshakeSent(Conn& c) {
  if (c.sid > config_.my_id) {
    // We have the smaller id: our handshake only asks the peer to connect back.
    c.state = Conn::State::kClosing;
    std::lock_guard lock(shared_->mu);
    shared_->stats.challenges_lost++;
  } else {
    Establish(c, c.sid);
  }
}

void ElectionTransport::Establish(Conn& c, ServerId sid) {
  Conn* old = Established(sid);
  if (old != nullptr && old != &c) CloseConn(*old, "replaced by a newer connection", true);
  c.state = Conn::State::kEstablished;
  c.sid = sid;
  c.deadline_ms = 0;
  established_[sid] = c.id;
  {
    std::lock_guard lock(shared_->mu);
    shared_->stats.connections_established++;
    // SendWorker.run: resend the last message when nothing newer waits.
    auto last = last_sent_.find(sid);
    if (last != last_sent_.end() && !shared_->send_slots.count(sid)) shared_->send_slots[sid] = last->second;
  }
  PublishConnected();
  ReportChannel(sid, true);
  AV_LOG(kInfo, "election: server {} connected to {} ({})", config_.my_id, sid, c.outgoing ? "out" : "in");
  PumpSend(c);
}

void ElectionTransport::OnHandshake(Conn& c, const quorum::InitialMessage& m) {
  ServerId sid = m.sid;
  if (sid == quorum::kObserverAnnouncedId) sid = next_observer_id_--;
  if (sid == config_.my_id) {
    AV_LOG(kWarn, "election: connection from {} claims our own id {}", c.peer, sid);
    std::lock_guard lock(shared_->mu);
    shared_->stats.handshakes_rejected++;
    CloseConn(c, "own id");
    return;
  }
  if (sid < config_.my_id) {
    // We have the larger id: drop theirs (and any stale one), connect back.
    {
      std::lock_guard lock(shared_->mu);
      shared_->stats.challenges_won++;
    }
    WriteOut(c);  // a quorum SASL SUCCESS still queued, best effort
    CloseConn(c, "smaller id connects; connecting back");
    ConnectBack(sid, m);
    return;
  }
  Establish(c, sid);
}

void ElectionTransport::ConnectBack(ServerId sid, const quorum::InitialMessage& m) {
  if (Conn* stale = Established(sid)) CloseConn(*stale, "peer reconnected", true);
  if (!m.addresses.empty()) {
    StartConnect(sid, m.addresses.front().host, m.addresses.front().port);
  } else {
    ConnectSid(sid);
  }
}

bool ElectionTransport::StepAuth(Conn& c) {
  if (c.outgoing) {
    QuorumAuthLearner::Result r = c.auth_learner->OnInput(&c.in, &c.out);
    if (r == QuorumAuthLearner::Result::kNeedMore) {
      if (c.wants_write()) OnWritable(c);
      return c.state != Conn::State::kDead;
    }
    if (r == QuorumAuthLearner::Result::kFailure) {
      AV_LOG(kWarn, "election: quorum SASL to server {} at {} failed: {}; closing", c.sid, c.peer,
             c.auth_learner->error());
      {
        std::lock_guard lock(shared_->mu);
        shared_->stats.auth_refused++;
      }
      CloseConn(c, "quorum SASL failed");
      return false;
    }
    AV_LOG(kInfo, "election: authenticated to server {} at {} (quorum SASL)", c.sid, c.peer);
    {
      std::lock_guard lock(shared_->mu);
      shared_->stats.auth_succeeded++;
    }
    c.auth_learner.reset();
    c.deadline_ms = 0;
    AfterHandshakeSent(c);
    if (c.state != Conn::State::kDead) OnWritable(c);
    return c.state != Conn::State::kDead;
  }
  QuorumAuthServer::Result r = c.auth_server->OnInput(&c.in, &c.out);
  switch (r) {
    case QuorumAuthServer::Result::kNeedMore:
      if (c.wants_write()) OnWritable(c);
      return c.state != Conn::State::kDead;
    case QuorumAuthServer::Result::kRefused:
      AV_LOG(kWarn, "election: refused server {} at {}: quorum SASL: {}", c.handshake.sid, c.peer,
             c.auth_server->error());
      {
        std::lock_guard lock(shared_->mu);
        shared_->stats.auth_refused++;
      }
      WriteOut(c);  // the ERROR, best effort
      CloseConn(c, "quorum SASL refused");
      return false;
    case QuorumAuthServer::Result::kAuthenticated: {
      AV_LOG(kInfo, "election: server {} at {} authenticated as {} (quorum SASL)", c.handshake.sid, c.peer,
             c.auth_server->user());
      std::lock_guard lock(shared_->mu);
      shared_->stats.auth_succeeded++;
      break;
    }
    case QuorumAuthServer::Result::kUnauthenticated:
      if (!c.auth_server->error().empty()) {
        AV_LOG(kWarn,
               "election: quorum SASL with server {} at {} failed ({}); keeping the connection as "
               "quorum.auth.serverRequireSasl=false",
               c.handshake.sid, c.peer, c.auth_server->error());
      }
      break;
  }
  c.auth_server.reset();
  c.state = Conn::State::kAwaitHandshake;
  if (c.wants_write()) WriteOut(c);
  if (c.state == Conn::State::kDead) return false;
  OnHandshake(c, c.handshake);
  return c.state != Conn::State::kDead;
}

// The receiver's side: the peer closed before the exchange ended. A peer
// that does not authenticate, with a smaller id, has closed as its rule
// says: connected back to unless authentication is required.
void ElectionTransport::OnAuthEof(Conn& c, const char* why) {
  QuorumAuthServer::Result r = c.auth_server->OnEof(why);
  const quorum::InitialMessage m = c.handshake;
  if (r == QuorumAuthServer::Result::kRefused) {
    AV_LOG(kWarn, "election: refused server {} at {}: quorum SASL: it closed without authenticating", m.sid, c.peer);
    std::lock_guard lock(shared_->mu);
    shared_->stats.auth_refused++;
  }
  CloseConn(c, why);
  if (r == QuorumAuthServer::Result::kUnauthenticated && m.sid < config_.my_id &&
      m.sid != quorum::kObserverAnnouncedId) {
    ConnectBack(m.sid, m);
  }
}

void ElectionTransport::OnReadable(Conn& c) {
  size_t budget = kReadBudgetBytes;
  char buf[kReadChunkBytes];
  while (budget > 0 && c.state != Conn::State::kDead) {
    ssize_t n = recv(c.fd.get(), buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      if (c.state == Conn::State::kAuthenticating && !c.outgoing) {
        OnAuthEof(c, n == 0 ? "closed by peer" : "read error");
        return;
      }
      CloseConn(c, n == 0 ? "closed by peer" : "read error");
      return;
    }
    if (n < 0) return;
    budget -= std::min(budget, static_cast<size_t>(n));
    std::string plain;
    std::string_view data(buf, static_cast<size_t>(n));
    if (c.tls != nullptr && !c.tls->plain()) {  // TLS, or not yet known (unified port)
      if (!OnTlsInput(c, buf, static_cast<size_t>(n), &plain)) return;
      data = plain;
    }
    if (c.state == Conn::State::kClosing) continue;  // not interested
    c.in.append(data);
    if (c.state == Conn::State::kAwaitHandshake) {
      quorum::InitialMessage m;
      size_t used = 0;
      quorum::ParseStatus st = quorum::DecodeInitialMessage(c.in, &m, &used);
      if (st == quorum::ParseStatus::kNeedMore) continue;
      if (st == quorum::ParseStatus::kBad) {
        std::lock_guard lock(shared_->mu);
        shared_->stats.handshakes_rejected++;
        CloseConn(c, "malformed handshake");
        return;
      }
      c.in.erase(0, used);
      if (config_.sasl != nullptr && config_.sasl->ServerChecks()) {
        // SaslQuorumAuthServer: before the larger-id rule is applied.
        c.handshake = m;
        c.auth_server = std::make_unique<QuorumAuthServer>(*config_.sasl);
        c.state = Conn::State::kAuthenticating;
        c.deadline_ms = NowMs() + std::max(config_.handshake_timeout_ms, config_.sasl->settings.timeout_ms);
      } else {
        OnHandshake(c, m);
      }
    }
    if (c.state == Conn::State::kAuthenticating && !StepAuth(c)) return;
    if (c.state == Conn::State::kEstablished) ParseFrames(c);
  }
}

// Ciphertext (or a unified port's first bytes): plaintext to *plain; the
// handshake's output is written. False when the connection closed.
bool ElectionTransport::OnTlsInput(Conn& c, const char* data, size_t n, std::string* plain) {
  net::TlsStream::Input in = c.tls->OnRaw(data, n, plain);
  if (in.opened) AV_LOG(kInfo, "election: {} with {}", c.tls->describe(), c.peer);
  if (in.close) {
    if (!in.why.empty()) AV_LOG(kWarn, "election: TLS connection with {} refused: {}", c.peer, in.why);
    WriteOut(c);  // the alert, best effort
    CloseConn(c, in.why.empty() ? "TLS closed by peer" : "TLS failure");
    return false;
  }
  if (c.wants_write()) OnWritable(c);  // handshake output, or what waited for the handshake
  return c.state != Conn::State::kDead;
}

void ElectionTransport::ParseFrames(Conn& c) {
  size_t pos = 0;
  while (c.state == Conn::State::kEstablished && c.in.size() - pos >= 4) {
    uint32_t len = BigEndian32(c.in, pos);
    if (len == 0 || len > quorum::kMaxElectionMessageBytes) {
      {
        std::lock_guard lock(shared_->mu);
        shared_->stats.bad_frames++;
      }
      CloseConn(c, "invalid message length");
      return;
    }
    if (c.in.size() - pos - 4 < len) break;
    std::optional<quorum::Notification> n = quorum::DecodeNotification(std::string_view(c.in).substr(pos + 4, len));
    pos += 4 + len;
    if (n) {
      Deliver(c.sid, *n);
    } else {
      std::lock_guard lock(shared_->mu);
      shared_->stats.undecodable_messages++;
    }
  }
  c.in.erase(0, pos);
}

void ElectionTransport::PumpSend(Conn& c) {
  if (c.state != Conn::State::kEstablished || c.out_pos < c.out.size()) return;
  {
    std::lock_guard lock(shared_->mu);
    auto it = shared_->send_slots.find(c.sid);
    if (it == shared_->send_slots.end()) return;
    c.out = std::move(it->second);
    shared_->send_slots.erase(it);
  }
  c.out_pos = 0;
  last_sent_[c.sid] = c.out;
  OnWritable(c);
}

// Writes what the socket takes: the plaintext itself, or (TLS) the
// plaintext encrypted once the handshake is done, and the handshake's output.
bool ElectionTransport::WriteOut(Conn& c) {
  if (c.state == Conn::State::kDead) return false;
  std::string why;
  if (WriteOutput(c.fd.get(), c.tls.get(), c.out, &c.out_pos, &why)) return true;
  if (why.starts_with("TLS")) AV_LOG(kWarn, "election: {} to {}", why, c.peer);
  CloseConn(c, why.starts_with("TLS") ? "TLS failure" : "write error");
  return false;
}

void ElectionTransport::OnWritable(Conn& c) {
  if (!WriteOut(c) || c.unsent() > 0) return;
  c.out.clear();
  c.out_pos = 0;
  if (c.state == Conn::State::kClosing) {
    CloseConn(c, "lost challenge");
    return;
  }
  PumpSend(c);
}

void ElectionTransport::CloseConn(Conn& c, const char* why, bool peer_alive) {
  if (c.state == Conn::State::kDead) return;
  AV_LOG(kDebug, "election: server {} closes connection {} (sid {}): {}", config_.my_id, c.peer, c.sid, why);
  bool was_established = c.state == Conn::State::kEstablished;
  bool connect_failed = c.state == Conn::State::kConnecting;
  // Our quorum SASL to it failed or timed out: as unreachable as a failed connect.
  bool auth_failed = c.state == Conn::State::kAuthenticating && c.outgoing;
  if (connect_failed) connecting_.erase(c.sid);
  if (c.outgoing && !was_established && retry_after_failure_.erase(c.sid)) {
    {
      std::lock_guard lock(shared_->mu);
      shared_->connect_requests.insert(c.sid);
    }
    wake_.Wake();
  }
  c.state = Conn::State::kDead;
  c.fd.Reset();
  if ((connect_failed || auth_failed) && !peer_alive && !established_.count(c.sid)) ReportChannel(c.sid, false);
  if (was_established) {
    auto it = established_.find(c.sid);
    if (it != established_.end() && it->second == c.id) {
      established_.erase(it);
      if (!peer_alive) ReportChannel(c.sid, false);
    }
    PublishConnected();
    std::lock_guard lock(shared_->mu);
    shared_->stats.connections_closed++;
  }
}

}  // namespace aviary::peer
