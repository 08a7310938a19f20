// QuorumTransport's I/O thread: accept, connect, read into the bounded
// packet parser, write the output backlog (quorum_transport.h).
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "peer/quorum_internal.h"

namespace aviary::peer {
namespace {

constexpr size_t kReadChunkBytes = 64 * 1024;
constexpr size_t kReadBudgetBytes = 1024 * 1024;  // per readiness, fairness

}  // namespace

void QuorumTransport::Run() {
  while (!stop_.load()) IoStep();
  for (auto& [id, c] : conns_) CloseConn(*c, "transport stopped");
  conns_.clear();
  listeners_.clear();
}

void QuorumTransport::IoStep() {
  TakeCommands();
  int64_t now = NowMs();
  for (auto& [id, c] : conns_) {
    if (c->connecting && now >= c->deadline_ms) CloseConn(*c, "connect timed out");
    if (c->fd.valid() && c->handshaking() && now >= c->deadline_ms) {
      AV_LOG(kWarn, "quorum TLS: handshake with {} timed out after {} ms", c->peer, config_.tls.handshake_timeout_ms);
      CloseConn(*c, "TLS handshake timed out");
    }
    if (c->fd.valid() && c->authing && now >= c->auth_deadline_ms) {
      AV_LOG(kWarn, "quorum SASL: the exchange with {} ({}) timed out", c->peer, c->accepted ? "learner" : "leader");
      CloseConn(*c, "quorum SASL timed out");
    }
  }
  std::erase_if(conns_, [](const auto& kv) { return !kv.second->fd.valid(); });
  BuildPollSet(&fds_, &ids_, !EventsFull());
  if (poll(fds_.data(), fds_.size(), PollTimeoutMs()) <= 0) return;
  if (fds_[0].revents) wake_.Drain();
  for (size_t i = 1; i < fds_.size(); ++i) {
    if (!fds_[i].revents) continue;
    if (ids_[i] == 0) {
      Accept();
      continue;
    }
    auto it = conns_.find(ids_[i]);
    if (it == conns_.end() || !it->second->fd.valid()) continue;
    Conn& c = *it->second;
    if (c.connecting) {
      OnConnectDone(c);
      continue;
    }
    if (fds_[i].revents & (POLLIN | POLLHUP | POLLERR)) OnReadable(c);
    if (c.fd.valid() && (fds_[i].revents & POLLOUT)) OnWritable(c);
  }
}

void QuorumTransport::BuildPollSet(std::vector<pollfd>* fds, std::vector<ConnId>* ids, bool reading) {
  fds->assign(1, pollfd{wake_.fd(), POLLIN, 0});
  ids->assign(1, 0);
  for (const Fd& l : listeners_) {
    fds->push_back({l.get(), POLLIN, 0});
    ids->push_back(0);
  }
  for (auto& [id, c] : conns_) {
    short ev = 0;
    if (c->connecting) {
      ev = POLLOUT;
    } else {
      if (reading || c->handshaking() || c->authing) ev |= POLLIN;
      if (c->wants_write()) ev |= POLLOUT;
    }
    fds->push_back({c->fd.get(), ev, 0});
    ids->push_back(id);
  }
}

int QuorumTransport::PollTimeoutMs() const {
  int64_t next = -1;
  for (const auto& [id, c] : conns_) {
    if ((c->connecting || c->handshaking()) && (next < 0 || c->deadline_ms < next)) next = c->deadline_ms;
    if (c->authing && (next < 0 || c->auth_deadline_ms < next)) next = c->auth_deadline_ms;
  }
  if (next < 0) return -1;
  return static_cast<int>(std::clamp<int64_t>(next - NowMs(), 0, 60000));
}

// Adopts new listeners and connections; moves queued output to the sockets;
// applies Close requests once a connection's output is written.
void QuorumTransport::TakeCommands() {
  std::vector<ConnId> to_flush;
  std::vector<ConnId> to_close;  // Close asked during quorum SASL
  std::vector<TakenOutput> taken;
  {
    std::lock_guard lock(shared_->mu);
    for (Fd& l : shared_->new_listeners) listeners_.push_back(std::move(l));
    shared_->new_listeners.clear();
    for (auto& c : shared_->new_conns) conns_[c->id] = std::move(c);
    shared_->new_conns.clear();
    for (auto& [id, o] : shared_->out) {
      auto it = conns_.find(id);
      if (it == conns_.end() || it->second->connecting) continue;
      Conn& c = *it->second;
      if (c.authing) {  // nothing of the caller's is written before the exchange is over
        if (o.close_requested) to_close.push_back(id);
        continue;
      }
      if (c.out_pos == c.out.size() && !o.pending.empty() && !o.inline_busy) {
        c.out.swap(o.pending);
        o.pending.clear();
        c.out_pos = 0;
        o.inflight = c.out.size();
        if (o.pending_packets > 0 && config_.on_output_taken) {
          taken.push_back({o.label, o.pending_packets, NowMs() - o.pending_since_ms});
        }
        o.pending_packets = 0;
      }
      if (o.close_requested) c.closing = true;
      if (c.out_pos < c.out.size() || c.closing) to_flush.push_back(id);
    }
  }
  for (const TakenOutput& t : taken) config_.on_output_taken(t.label, t.packets, t.waited_ms);
  for (ConnId id : to_close) {
    auto it = conns_.find(id);
    if (it != conns_.end() && it->second->fd.valid()) CloseConn(*it->second, "closed locally");
  }
  for (ConnId id : to_flush) {
    auto it = conns_.find(id);
    if (it != conns_.end() && it->second->fd.valid()) OnWritable(*it->second);
  }
}

void QuorumTransport::Accept() {
  for (const Fd& l : listeners_) {
    while (true) {
      auto c = std::make_unique<Conn>();
      c->fd = AcceptTcp(l.get(), &c->peer);
      if (!c->fd.valid()) break;
      if (conns_.size() >= config_.max_connections) {
        AV_LOG(kWarn, "quorum transport: {} connections; refusing {}", conns_.size(), c->peer);
        continue;
      }
      c->accepted = true;
      c->tls = config_.tls.ForAccepted(c->peer);
      c->deadline_ms = NowMs() + config_.tls.handshake_timeout_ms;
      c->parser = std::make_unique<quorum::PacketStreamParser>(config_.max_packet_buffer_bytes);
      if (config_.sasl != nullptr && config_.sasl->ServerChecks()) {
        // LearnerHandler: SaslQuorumAuthServer before the first packet.
        c->auth_server = std::make_unique<QuorumAuthServer>(*config_.sasl);
        c->authing = true;
        c->auth_deadline_ms =
            NowMs() + std::max<int64_t>(config_.tls.handshake_timeout_ms, config_.sasl->settings.timeout_ms);
      }
      {
        std::lock_guard lock(shared_->mu);
        c->id = shared_->next_id++;
        // plaintext: inline_flush may write (once quorum SASL is over)
        shared_->out[c->id].fd = c->tls == nullptr && !c->authing ? c->fd.get() : -1;
      }
      if (c->authing) {
        conns_[c->id] = std::move(c);
        continue;  // kConnected after the exchange (FinishAuth)
      }
      QuorumEvent ev;
      ev.kind = QuorumEvent::Kind::kConnected;
      ev.conn = c->id;
      ev.peer = c->peer;
      ev.accepted = true;
      conns_[c->id] = std::move(c);
      Emit(std::move(ev));
    }
  }
}

void QuorumTransport::OnConnectDone(Conn& c) {
  int err = ConnectError(c.fd.get());
  if (err != 0) {
    CloseConn(c, std::string("connect failed: ") + std::strerror(err));
    return;
  }
  c.connecting = false;
  std::string why;
  c.tls = config_.tls.ForConnect(c.peer.substr(0, c.peer.rfind(':')), &why);
  if (!why.empty()) {
    AV_LOG(kWarn, "quorum TLS: cannot start a handshake with {}: {}", c.peer, why);
    CloseConn(c, "TLS: " + why);
    return;
  }
  c.deadline_ms = NowMs() + config_.tls.handshake_timeout_ms;
  c.parser = std::make_unique<quorum::PacketStreamParser>(config_.max_packet_buffer_bytes);
  if (config_.sasl != nullptr && config_.sasl->LearnerAuthenticates()) {
    // Learner.connectToLeader: SaslQuorumAuthLearner before FOLLOWERINFO.
    c.auth_learner = std::make_unique<QuorumAuthLearner>(*config_.sasl);
    c.authing = true;
    c.auth_deadline_ms =
        NowMs() + std::max<int64_t>(config_.tls.handshake_timeout_ms, config_.sasl->settings.timeout_ms);
    if (c.auth_learner->Start(&c.out) == QuorumAuthLearner::Result::kFailure) {
      AV_LOG(kWarn, "quorum SASL: cannot authenticate to the leader at {}: {}", c.peer, c.auth_learner->error());
      CloseConn(c, "quorum SASL: " + c.auth_learner->error());
      return;
    }
    c.out_pos = 0;
    OnWritable(c);
    return;  // kConnected after the exchange (FinishAuth)
  }
  if (c.tls == nullptr) {
    std::lock_guard lock(shared_->mu);
    auto it = shared_->out.find(c.id);
    if (it != shared_->out.end()) it->second.fd = c.fd.get();  // plaintext: inline_flush may write
  }
  QuorumEvent ev;
  ev.kind = QuorumEvent::Kind::kConnected;
  ev.conn = c.id;
  ev.peer = c.peer;
  Emit(std::move(ev));
  wake_.Wake();  // output queued before the connect completed
}

// The packets of one readiness are emitted together (EmitBatch: one lock
// and one wakeup of the consumer), before anything CloseConn reports.
void QuorumTransport::OnReadable(Conn& c) {
  char buf[kReadChunkBytes];
  size_t budget = kReadBudgetBytes;
  while (budget > 0 && c.fd.valid()) {
    ssize_t n = recv(c.fd.get(), buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      CloseConn(c, n == 0 ? "closed by peer" : std::string("read error: ") + std::strerror(errno));
      return;
    }
    if (n < 0) break;
    budget -= std::min(budget, static_cast<size_t>(n));
    if (c.tls != nullptr && !c.tls->plain()) {  // TLS, or not yet known (unified port)
      if (!OnTlsInput(c, buf, static_cast<size_t>(n))) break;
      continue;
    }
    OnPlain(c, std::string_view(buf, static_cast<size_t>(n)));
  }
  EmitBatch();
}

void QuorumTransport::OnPlain(Conn& c, std::string_view data) {
  if (!c.authing) {
    c.parser->Feed(data);
    DrainParser(c);
    return;
  }
  if (c.auth_in.size() + data.size() > 2 * quorum::kMaxQuorumAuthTokenBytes) {
    CloseConn(c, "quorum SASL: too many bytes during the exchange");
    return;
  }
  c.auth_in.append(data);
  StepAuth(c);
}

void QuorumTransport::StepAuth(Conn& c) {
  const char* side = c.accepted ? "learner" : "leader";
  if (c.auth_learner != nullptr) {
    QuorumAuthLearner::Result r = c.auth_learner->OnInput(&c.auth_in, &c.out);
    if (r == QuorumAuthLearner::Result::kFailure) {
      AV_LOG(kWarn, "quorum SASL: authentication to the leader at {} failed: {}; closing", c.peer,
             c.auth_learner->error());
      CloseConn(c, "quorum SASL: " + c.auth_learner->error());
      return;
    }
    if (r == QuorumAuthLearner::Result::kSuccess) {
      AV_LOG(kInfo, "quorum SASL: authenticated to the leader at {}", c.peer);
      FinishAuth(c);
      return;
    }
  } else if (c.auth_server != nullptr) {
    QuorumAuthServer::Result r = c.auth_server->OnInput(&c.auth_in, &c.out);
    switch (r) {
      case QuorumAuthServer::Result::kNeedMore:
        break;
      case QuorumAuthServer::Result::kRefused: {
        AV_LOG(kWarn, "quorum SASL: refused the {} at {}: {}", side, c.peer, c.auth_server->error());
        WriteOut(c);  // the ERROR, best effort
        if (c.fd.valid()) CloseConn(c, "quorum SASL: " + c.auth_server->error());
        return;
      }
      case QuorumAuthServer::Result::kAuthenticated:
        AV_LOG(kInfo, "quorum SASL: the {} at {} authenticated as {}", side, c.peer, c.auth_server->user());
        FinishAuth(c);
        return;
      case QuorumAuthServer::Result::kUnauthenticated:
        if (!c.auth_server->error().empty()) {
          AV_LOG(kWarn,
                 "quorum SASL: the {} at {} failed to authenticate ({}); keeping the connection as "
                 "quorum.auth.serverRequireSasl=false",
                 side, c.peer, c.auth_server->error());
        }
        FinishAuth(c);
        return;
    }
  }
  if (c.fd.valid() && c.wants_write()) WriteOut(c);
}

void QuorumTransport::FinishAuth(Conn& c) {
  c.authing = false;
  c.auth_learner.reset();
  c.auth_server.reset();
  if (c.wants_write()) {
    if (!WriteOut(c)) return;
  }
  {
    std::lock_guard lock(shared_->mu);
    auto it = shared_->out.find(c.id);
    if (it != shared_->out.end()) {
      it->second.inflight = c.unsent();
      if (c.tls == nullptr) it->second.fd = c.fd.get();  // plaintext: inline_flush may write
    }
  }
  QuorumEvent ev;
  ev.kind = QuorumEvent::Kind::kConnected;
  ev.conn = c.id;
  ev.peer = c.peer;
  ev.accepted = c.accepted;
  batch_.push_back(std::move(ev));
  std::string rest;
  rest.swap(c.auth_in);
  if (!rest.empty()) {
    c.parser->Feed(rest);
    DrainParser(c);
  }
  EmitBatch();
  wake_.Wake();  // output queued before the exchange ended
}

// Ciphertext (or a unified port's first bytes) from the socket: the
// plaintext goes to the parser; the handshake's own output is written.
bool QuorumTransport::OnTlsInput(Conn& c, const char* data, size_t n) {
  std::string plain;
  net::TlsStream::Input in = c.tls->OnRaw(data, n, &plain);
  if (!plain.empty()) OnPlain(c, plain);
  if (!c.fd.valid()) return false;
  if (in.opened) {
    AV_LOG(kInfo, "quorum transport: {} connection {} with {}", c.accepted ? "accepted" : "opened", c.tls->describe(),
           c.peer);
  }
  if (c.fd.valid() && !in.close && (c.wants_write() || c.closing)) OnWritable(c);  // also what waited for the handshake
  if (!c.fd.valid()) return false;
  if (in.close) {
    if (!in.why.empty()) AV_LOG(kWarn, "quorum TLS: connection with {} refused: {}", c.peer, in.why);
    WriteOut(c);  // the alert, best effort
    if (c.fd.valid()) CloseConn(c, in.why.empty() ? "TLS closed by peer" : "TLS: " + in.why);
    return false;
  }
  return true;
}

void QuorumTransport::DrainParser(Conn& c) {
  while (c.fd.valid()) {
    quorum::PacketStreamParser::Item item;
    quorum::ParseStatus st = c.parser->Next(&item);
    if (st == quorum::ParseStatus::kNeedMore) return;
    if (st == quorum::ParseStatus::kBad) {
      CloseConn(c, "malformed quorum packet stream");
      return;
    }
    QuorumEvent ev;
    ev.conn = c.id;
    if (item.kind == quorum::PacketStreamParser::Item::Kind::kRawDone) {
      ev.kind = QuorumEvent::Kind::kRawDone;
      ev.raw = std::move(item.raw);
    } else {
      ev.kind = QuorumEvent::Kind::kPacket;
      if (config_.raw_after) {
        std::unique_ptr<quorum::RawSection> raw = config_.raw_after(c.id, item.packet);
        if (raw) c.parser->BeginRaw(std::move(raw));
      }
      ev.packet = std::move(item.packet);
    }
    batch_.push_back(std::move(ev));
  }
}

// Writes what the socket takes: the plaintext itself, or (TLS) the
// plaintext encrypted once the handshake is done, and the handshake's output.
bool QuorumTransport::WriteOut(Conn& c) {
  std::string why;
  if (WriteOutput(c.fd.get(), c.tls.get(), c.out, &c.out_pos, &why)) return true;
  CloseConn(c, why);
  return false;
}

void QuorumTransport::OnWritable(Conn& c) {
  if (!WriteOut(c)) return;
  bool done = c.out_pos == c.out.size() && c.unsent() == 0;
  if (c.out_pos == c.out.size()) {
    c.out.clear();
    c.out_pos = 0;
  }
  bool more_pending = false;
  bool inline_busy = false;
  {
    std::lock_guard lock(shared_->mu);
    Shared::Out& o = shared_->out[c.id];
    o.inflight = c.unsent();
    more_pending = !o.pending.empty();
    inline_busy = o.inline_busy;  // a Flush is writing: it wakes this thread when done
  }
  if (inline_busy) return;
  if (done && more_pending) wake_.Wake();  // TakeCommands moves the rest
  if (done && !more_pending && c.closing) CloseConn(c, "closed locally");
}

void QuorumTransport::CloseConn(Conn& c, const std::string& reason) {
  if (!c.fd.valid() && !c.connecting && c.parser == nullptr) return;
  AV_LOG(kDebug, "quorum transport: connection {} ({}) closed: {}", c.id, c.peer, reason);
  EmitBatch();  // what was read before the close comes first
  {
    // Under write_mu: no inline Flush is writing to this fd, and none finds
    // it once it is gone from `out`.
    std::lock_guard write_lock(shared_->write_mu);
    {
      std::lock_guard lock(shared_->mu);
      shared_->out.erase(c.id);
    }
    c.fd.Reset();
  }
  c.connecting = false;
  c.parser.reset();
  QuorumEvent ev;
  ev.kind = QuorumEvent::Kind::kDisconnected;
  ev.conn = c.id;
  ev.reason = reason;
  Emit(std::move(ev));
}

}  // namespace aviary::peer
