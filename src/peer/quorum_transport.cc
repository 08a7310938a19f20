// QuorumTransport (quorum_transport.h).
#include "peer/quorum_transport.h"

#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "base/log.h"
#include "peer/quorum_internal.h"

namespace aviary::peer {
QuorumTransport::QuorumTransport(QuorumTransportConfig config)
    : config_(std::move(config)), shared_(std::make_unique<Shared>()) {}

QuorumTransport::~QuorumTransport() { Stop(); }

void QuorumTransport::Start() {
  if (!thread_.joinable())
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "av-quorum-io");  // for top -H / perf
      Run();
    });
}

void QuorumTransport::Stop() {
  stop_.store(true);
  wake_.Wake();
  if (thread_.joinable()) thread_.join();
  shared_->cv.notify_all();
}

int QuorumTransport::Listen(const std::string& host, int port, bool all_ips, std::string* error) {
  SocketResult r = ListenTcp(host, port, all_ips);
  if (!r.fd.valid()) {
    if (error) *error = r.error;
    return -1;
  }
  int bound = LocalPort(r.fd.get());
  {
    std::lock_guard lock(shared_->mu);
    shared_->new_listeners.push_back(std::move(r.fd));
  }
  wake_.Wake();
  return bound;
}

ConnId QuorumTransport::Connect(const std::string& host, int port) {
  auto c = std::make_unique<Conn>();
  c->peer = host + ":" + std::to_string(port);
  SocketResult r = StartConnect(host, port);
  std::lock_guard lock(shared_->mu);
  c->id = shared_->next_id++;
  ConnId id = c->id;
  if (!r.fd.valid()) {
    QuorumEvent ev;
    ev.kind = QuorumEvent::Kind::kDisconnected;
    ev.conn = id;
    ev.reason = r.error;
    shared_->events.push_back(std::move(ev));
    shared_->cv.notify_all();
    return id;
  }
  c->fd = std::move(r.fd);
  c->connecting = true;
  c->deadline_ms = NowMs() + config_.connect_timeout_ms;
  shared_->out[id];
  shared_->new_conns.push_back(std::move(c));
  wake_.Wake();
  return id;
}

QuorumTransport::SendResult QuorumTransport::Send(ConnId conn, const quorum::QuorumPacket& p) {
  return SendRaw(conn, quorum::EncodePacket(p));
}

QuorumTransport::SendResult QuorumTransport::SendRaw(ConnId conn, std::string_view bytes) {
  bool wake = false;
  {
    std::lock_guard lock(shared_->mu);
    auto it = shared_->out.find(conn);
    if (it == shared_->out.end() || it->second.close_requested) return SendResult::kClosed;
    Shared::Out& o = it->second;
    if (o.pending.size() + o.inflight + bytes.size() > config_.max_output_bytes) return SendResult::kFull;
    // Non-empty pending output: a wake is already due (TakeCommands has not
    // taken it yet, or OnWritable wakes once the bytes in flight are out).
    wake = o.pending.empty();
    o.pending.append(bytes);
    if (wake && config_.defer_send_wakes) {
      shared_->wake_due = true;
      wake = false;
    }
  }
  if (wake) wake_.Wake();
  return SendResult::kQueued;
}

void QuorumTransport::Flush() {
  if (!config_.defer_send_wakes) return;
  bool wake = false;
  {
    std::lock_guard lock(shared_->mu);
    wake = shared_->wake_due;
    shared_->wake_due = false;
  }
  if (wake) wake_.Wake();
}

void QuorumTransport::WaitOutput(int timeout_ms) {
  Flush();
  wake_.Wake();
  std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
}

size_t QuorumTransport::OutputBacklog(ConnId conn) const {
  std::lock_guard lock(shared_->mu);
  auto it = shared_->out.find(conn);
  return it == shared_->out.end() ? 0 : it->second.pending.size() + it->second.inflight;
}

void QuorumTransport::Close(ConnId conn) {
  {
    std::lock_guard lock(shared_->mu);
    auto it = shared_->out.find(conn);
    if (it == shared_->out.end()) return;
    it->second.close_requested = true;
  }
  wake_.Wake();
}

bool QuorumTransport::Poll(QuorumEvent* out, int timeout_ms) {
  Flush();
  std::unique_lock lock(shared_->mu);
  if (!shared_->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                            [&] { return !shared_->events.empty() || shared_->interrupted || stop_.load(); }) ||
      shared_->events.empty()) {
    shared_->interrupted = false;
    return false;
  }
  *out = std::move(shared_->events.front());
  shared_->events.pop_front();
  bool resume = shared_->events.size() + 1 == config_.max_pending_events;
  lock.unlock();
  if (resume) wake_.Wake();  // the I/O thread may have paused reading
  return true;
}

size_t QuorumTransport::PollMany(std::vector<QuorumEvent>* out, size_t max, int timeout_ms) {
  Flush();
  std::unique_lock lock(shared_->mu);
  if (!shared_->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                            [&] { return !shared_->events.empty() || shared_->interrupted || stop_.load(); }) ||
      shared_->events.empty()) {
    shared_->interrupted = false;
    return 0;
  }
  const bool resume = shared_->events.size() >= config_.max_pending_events;
  size_t n = 0;
  for (; n < max && !shared_->events.empty(); ++n) {
    out->push_back(std::move(shared_->events.front()));
    shared_->events.pop_front();
  }
  lock.unlock();
  if (resume) wake_.Wake();  // the I/O thread may have paused reading
  return n;
}

void QuorumTransport::Interrupt() {
  {
    std::lock_guard lock(shared_->mu);
    shared_->interrupted = true;
  }
  shared_->cv.notify_all();
}

void QuorumTransport::Emit(QuorumEvent ev) {
  {
    std::lock_guard lock(shared_->mu);
    shared_->events.push_back(std::move(ev));
  }
  shared_->cv.notify_all();
}

void QuorumTransport::EmitBatch() {
  if (batch_.empty()) return;
  {
    std::lock_guard lock(shared_->mu);
    for (QuorumEvent& ev : batch_) shared_->events.push_back(std::move(ev));
  }
  batch_.clear();
  shared_->cv.notify_all();
}

bool QuorumTransport::EventsFull() const {
  std::lock_guard lock(shared_->mu);
  return shared_->events.size() >= config_.max_pending_events;
}

}  // namespace aviary::peer
