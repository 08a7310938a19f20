// ElectionTransport: public API, the I/O loop and the listener
// (election_transport.h). Per-connection handling: election_conn.cc.
#include "peer/election_transport.h"

#include <poll.h>
#include <pthread.h>

#include <algorithm>
#include <chrono>

#include "base/log.h"
#include "peer/election_internal.h"

namespace aviary::peer {

ElectionTransport::ElectionTransport(ElectionConfig config, OnMessage on_message)
    : config_(std::move(config)), on_message_(std::move(on_message)), shared_(std::make_unique<Shared>()) {}

ElectionTransport::~ElectionTransport() { Stop(); }

void ElectionTransport::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "av-election");  // for top -H / perf
    Run();
  });
}

void ElectionTransport::Stop() {
  stop_.store(true);
  wake_.Wake();
  if (thread_.joinable()) thread_.join();
  shared_->cv.notify_all();
}

int ElectionTransport::WaitListening(int timeout_ms, std::string* error) {
  std::unique_lock lock(shared_->mu);
  bool done = shared_->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                   [&] { return shared_->listen_state != 0 || stop_.load(); });
  if (done && shared_->listen_state == 1) return shared_->bound_port;
  if (error) *error = done ? shared_->listen_error : "timed out waiting for the election listener";
  return -1;
}

void ElectionTransport::Send(ServerId to, const quorum::Notification& n) {
  std::string frame;
  quorum::EncodeNotificationFrame(n, &frame);
  if (frame.size() - 4 > quorum::kMaxElectionMessageBytes) {
    AV_LOG(kError, "election: notification of {} bytes exceeds the peers' limit; not sent", frame.size() - 4);
    return;
  }
  if (to == config_.my_id) {
    Deliver(to, n);
    return;
  }
  {
    std::lock_guard lock(shared_->mu);
    auto [it, fresh] = shared_->send_slots.insert_or_assign(to, std::move(frame));
    if (!fresh) shared_->stats.sends_replaced++;
    shared_->connect_requests.insert(to);
  }
  wake_.Wake();
}

void ElectionTransport::ConnectAll() {
  {
    std::lock_guard lock(shared_->mu);
    for (const ElectionMember& m : config_.members) {
      if (m.id != config_.my_id) shared_->connect_requests.insert(m.id);
    }
  }
  wake_.Wake();
}

bool ElectionTransport::Poll(ReceivedNotification* out, int timeout_ms) {
  std::unique_lock lock(shared_->mu);
  if (!shared_->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                            [&] { return !shared_->recv.empty() || stop_.load(); }) ||
      shared_->recv.empty()) {
    return false;
  }
  *out = std::move(shared_->recv.front());
  shared_->recv.pop_front();
  return true;
}

bool ElectionTransport::Connected(ServerId sid) const {
  std::lock_guard lock(shared_->mu);
  return shared_->connected.count(sid) > 0;
}

std::vector<ServerId> ElectionTransport::ConnectedPeers() const {
  std::lock_guard lock(shared_->mu);
  return {shared_->connected.begin(), shared_->connected.end()};
}

ElectionStats ElectionTransport::stats() const {
  std::lock_guard lock(shared_->mu);
  return shared_->stats;
}

void ElectionTransport::Deliver(ServerId from, const quorum::Notification& n) {
  ReceivedNotification r{from, n};
  if (on_message_) on_message_(r);
  Enqueue(std::move(r));
}

void ElectionTransport::Enqueue(ReceivedNotification r) {
  {
    std::lock_guard lock(shared_->mu);
    if (shared_->recv.size() >= config_.recv_capacity) {
      shared_->recv.pop_front();
      shared_->stats.received_dropped++;
    }
    shared_->recv.push_back(std::move(r));
  }
  shared_->cv.notify_all();
}

void ElectionTransport::ReportChannel(ServerId sid, bool up) {
  if (!config_.report_channels) return;
  ReceivedNotification r;
  r.from = sid;
  r.kind = up ? ReceivedNotification::Kind::kChannelUp : ReceivedNotification::Kind::kChannelDown;
  Enqueue(std::move(r));
}

void ElectionTransport::Run() {
  Loop();
  for (auto& [id, c] : conns_) c->fd.Reset();
  conns_.clear();
  established_.clear();
  listen_fd_.Reset();
  PublishConnected();
  std::lock_guard lock(shared_->mu);
  if (shared_->listen_state == 0) {
    shared_->listen_state = -1;
    shared_->listen_error = "stopped";
  }
}

void ElectionTransport::Loop() {
  std::vector<pollfd> fds;
  std::vector<uint64_t> ids;
  while (!stop_.load()) {
    int64_t now = NowMs();
    if (!listen_fd_.valid() && bound_port_ < 0 && now >= next_bind_ms_) TryBind();
    CheckDeadlines(now);
    Reap();
    fds.assign(1, pollfd{wake_.fd(), POLLIN, 0});
    ids.assign(1, 0);
    if (listen_fd_.valid()) {
      fds.push_back({listen_fd_.get(), POLLIN, 0});
      ids.push_back(0);
    }
    for (auto& [id, c] : conns_) {
      short ev = c->state == Conn::State::kConnecting ? POLLOUT : POLLIN;
      if (c->state != Conn::State::kConnecting && c->wants_write()) ev |= POLLOUT;
      fds.push_back({c->fd.get(), ev, 0});
      ids.push_back(id);
    }
    if (poll(fds.data(), fds.size(), PollTimeoutMs(NowMs())) < 0) continue;
    if (fds[0].revents) wake_.Drain();
    TakeCommands();
    size_t first_conn = listen_fd_.valid() ? 2 : 1;
    // Connections first: closes seen in this round free handshake slots.
    for (size_t i = first_conn; i < fds.size(); ++i) {
      auto it = conns_.find(ids[i]);
      if (it == conns_.end() || !fds[i].revents) continue;
      Conn& c = *it->second;
      if (c.state == Conn::State::kConnecting) {
        OnConnectDone(c);
        continue;
      }
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) OnReadable(c);
      if (c.state != Conn::State::kDead && (fds[i].revents & POLLOUT)) OnWritable(c);
    }
    if (first_conn == 2 && fds[1].revents) Accept();
  }
}

int ElectionTransport::PollTimeoutMs(int64_t now_ms) const {
  int64_t next = -1;
  auto consider = [&](int64_t t) {
    if (t > 0 && (next < 0 || t < next)) next = t;
  };
  if (!listen_fd_.valid() && bound_port_ < 0 && next_bind_ms_ > 0) consider(next_bind_ms_);
  for (const auto& [id, c] : conns_) {
    consider(c->deadline_ms);
    if (c->handshaking()) consider(c->tls_deadline_ms);
  }
  if (next < 0) return -1;
  return static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(next - now_ms, 60000)));
}

void ElectionTransport::TryBind() {
  SocketResult r = ListenTcp(config_.listen_host, config_.listen_port, config_.listen_on_all_ips);
  bind_attempts_++;
  if (r.fd.valid()) {
    listen_fd_ = std::move(r.fd);
    bound_port_ = LocalPort(listen_fd_.get());
    AV_LOG(kInfo, "election: server {} listening on port {}", config_.my_id, bound_port_);
    std::lock_guard lock(shared_->mu);
    shared_->listen_state = 1;
    shared_->bound_port = bound_port_;
    shared_->cv.notify_all();
    return;
  }
  AV_LOG(kError, "election: cannot listen on {}:{}: {} (attempt {})", config_.listen_host, config_.listen_port, r.error,
         bind_attempts_);
  if (config_.bind_retries == 0 || bind_attempts_ < config_.bind_retries) {
    next_bind_ms_ = NowMs() + config_.bind_retry_interval_ms;
    return;
  }
  next_bind_ms_ = 0;
  bound_port_ = 0;  // gave up: no more attempts
  std::lock_guard lock(shared_->mu);
  shared_->listen_state = -1;
  shared_->listen_error = r.error;
  shared_->cv.notify_all();
}

void ElectionTransport::TakeCommands() {
  std::set<ServerId> want;
  {
    std::lock_guard lock(shared_->mu);
    want.swap(shared_->connect_requests);
  }
  for (ServerId sid : want) {
    if (Conn* c = Established(sid)) {
      PumpSend(*c);
    } else {
      ConnectSid(sid);
    }
  }
}

void ElectionTransport::Accept() {
  while (true) {
    std::string peer;
    Fd fd = AcceptTcp(listen_fd_.get(), &peer);
    if (!fd.valid()) return;
    if (PendingHandshakes() >= config_.max_pending_handshakes) {
      AV_LOG(kWarn, "election: {} connections await their handshake; refusing {}", PendingHandshakes(), peer);
      continue;  // fd closes here
    }
    auto c = std::make_unique<Conn>();
    c->id = next_conn_id_++;
    c->fd = std::move(fd);
    c->peer = peer;
    c->state = Conn::State::kAwaitHandshake;
    c->deadline_ms = NowMs() + config_.handshake_timeout_ms;
    c->tls = config_.tls.ForAccepted(c->peer);
    c->tls_deadline_ms = NowMs() + config_.tls.handshake_timeout_ms;
    conns_[c->id] = std::move(c);
  }
}

ElectionTransport::Conn* ElectionTransport::Established(ServerId sid) {
  auto it = established_.find(sid);
  if (it == established_.end()) return nullptr;
  auto c = conns_.find(it->second);
  return c == conns_.end() ? nullptr : c->second.get();
}

size_t ElectionTransport::PendingHandshakes() const {
  size_t n = 0;
  for (const auto& [id, c] : conns_) {
    n += c->state == Conn::State::kAwaitHandshake || (c->state == Conn::State::kAuthenticating && !c->outgoing);
  }
  return n;
}

void ElectionTransport::CheckDeadlines(int64_t now_ms) {
  for (auto& [id, c] : conns_) {
    if (c->deadline_ms > 0 && now_ms >= c->deadline_ms && c->state == Conn::State::kAuthenticating) {
      AV_LOG(kWarn, "election: quorum SASL with {} ({}) timed out", c->outgoing ? c->sid : c->handshake.sid, c->peer);
      std::lock_guard lock(shared_->mu);
      shared_->stats.auth_refused++;
    }
    if (c->deadline_ms > 0 && now_ms >= c->deadline_ms && c->state != Conn::State::kDead) {
      CloseConn(*c, c->state == Conn::State::kConnecting ? "connect timed out" : "handshake timed out");
    }
    if (c->state != Conn::State::kDead && c->handshaking() && now_ms >= c->tls_deadline_ms) {
      AV_LOG(kWarn, "election: TLS handshake with {} timed out after {} ms", c->peer, config_.tls.handshake_timeout_ms);
      CloseConn(*c, "TLS handshake timed out");
    }
  }
}

void ElectionTransport::Reap() {
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (it->second->state == Conn::State::kDead) {
      it = conns_.erase(it);
    } else {
      ++it;
    }
  }
}

void ElectionTransport::PublishConnected() {
  std::lock_guard lock(shared_->mu);
  shared_->connected.clear();
  for (const auto& [sid, id] : established_) shared_->connected.insert(sid);
}

}  // namespace aviary::peer
