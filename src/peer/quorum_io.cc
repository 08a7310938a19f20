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
      if (reading || c->handshaking()) ev |= POLLIN;
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
  }
  if (next < 0) return -1;
  return static_cast<int>(std::clamp<int64_t>(next - NowMs(), 0, 60000));
}

// Adopts new listeners and connections; moves queued output to the sockets;
// applies Close requests once a connection's output is written.
void QuorumTransport::TakeCommands() {
  std::vector<ConnId> to_flush;
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
      {
        std::lock_guard lock(shared_->mu);
        c->id = shared_->next_id++;
        shared_->out[c->id].fd = c->tls == nullptr ? c->fd.get() : -1;  // plaintext: inline_flush may write
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
    c.parser->Feed(std::string_view(buf, static_cast<size_t>(n)));
    DrainParser(c);
  }
  EmitBatch();
}

// Ciphertext (or a unified port's first bytes) from the socket: the
// plaintext goes to the parser; the handshake's own output is written.
bool QuorumTransport::OnTlsInput(Conn& c, const char* data, size_t n) {
  std::string plain;
  net::TlsStream::Input in = c.tls->OnRaw(data, n, &plain);
  if (!plain.empty()) {
    c.parser->Feed(plain);
    DrainParser(c);
  }
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
