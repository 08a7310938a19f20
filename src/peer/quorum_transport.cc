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

// The packet is encoded straight into the connection's pending output (no
// temporary string per packet); one over the output bound is cut off again.
QuorumTransport::SendResult QuorumTransport::Send(ConnId conn, const quorum::QuorumPacket& p) {
  return Queue(conn, {}, &p);
}

QuorumTransport::SendResult QuorumTransport::SendRaw(ConnId conn, std::string_view bytes) {
  return Queue(conn, bytes, nullptr);
}

void QuorumTransport::SetLabel(ConnId conn, std::string label) {
  std::lock_guard lock(shared_->mu);
  auto it = shared_->out.find(conn);
  if (it != shared_->out.end()) it->second.label = std::move(label);
}

QuorumTransport::SendResult QuorumTransport::Queue(ConnId conn, std::string_view bytes,
                                                   const quorum::QuorumPacket* packet) {
  bool wake = false;
  {
    std::lock_guard lock(shared_->mu);
    auto it = shared_->out.find(conn);
    if (it == shared_->out.end() || it->second.close_requested) return SendResult::kClosed;
    Shared::Out& o = it->second;
    const size_t before = o.pending.size();
    if (packet != nullptr) {
      quorum::EncodePacket(*packet, &o.pending);
    } else {
      o.pending.append(bytes);
    }
    if (o.pending.size() + o.inflight > config_.max_output_bytes) {
      o.pending.resize(before);
      return SendResult::kFull;
    }
    // Pending output before this one: a wake is already due (TakeCommands
    // has not taken it yet, or OnWritable wakes once the bytes in flight
    // are out).
    wake = before == 0;
    if (packet && !o.label.empty() && o.pending_packets++ == 0) o.pending_since_ms = NowMs();
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
  if (config_.inline_flush) {
    wake = FlushInline();
  } else {
    std::lock_guard lock(shared_->mu);
    wake = shared_->wake_due;
    shared_->wake_due = false;
  }
  if (wake) wake_.Wake();
}

// Takes the queued output of every plaintext connection the I/O thread has
// nothing in flight of, writes it here (outside mu, under write_mu), and
// hands back only what the socket did not take, in front of anything queued
// meanwhile. Returns whether the I/O thread has output left to write.
bool QuorumTransport::FlushInline() {
  std::lock_guard write_lock(shared_->write_mu);
  std::vector<Shared::InlineJob>& jobs = shared_->inline_jobs;
  jobs.clear();
  std::vector<TakenOutput>& taken = shared_->inline_taken;
  taken.clear();
  bool wake = false;
  {
    std::lock_guard lock(shared_->mu);
    if (!shared_->wake_due) return false;  // nothing was queued since the last Flush
    shared_->wake_due = false;
    for (auto& [id, o] : shared_->out) {
      if (o.pending.empty()) continue;
      if (o.fd < 0 || o.inflight > 0 || o.close_requested) {
        wake = true;  // the I/O thread's: TLS, connecting, closing, or its write still running
        continue;
      }
      o.writing.swap(o.pending);
      o.pending.clear();
      o.inline_busy = true;
      if (o.pending_packets > 0 && config_.on_output_taken) {
        taken.push_back({o.label, o.pending_packets, NowMs() - o.pending_since_ms});
      }
      o.pending_packets = 0;
      jobs.push_back({id, o.fd, &o, 0});
    }
  }
  for (const TakenOutput& t : taken) config_.on_output_taken(t.label, t.packets, t.waited_ms);
  for (Shared::InlineJob& j : jobs) {
    const std::string& w = j.out->writing;
    while (j.written < w.size()) {
      const ssize_t n = send(j.fd, w.data() + j.written, w.size() - j.written, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // full (the I/O thread waits for POLLOUT) or broken (it reads the error)
      j.written += static_cast<size_t>(n);
    }
  }
  {
    std::lock_guard lock(shared_->mu);
    for (Shared::InlineJob& j : jobs) {
      Shared::Out& o = *j.out;
      o.inline_busy = false;
      if (j.written < o.writing.size()) {
        o.pending.insert(0, o.writing, j.written, std::string::npos);
        wake = true;
      } else if (!o.pending.empty() || o.close_requested) {
        wake = true;  // queued by another thread while this one wrote, or a Close waits for this write
      }
      o.writing.clear();
    }
  }
  jobs.clear();
  return wake;
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
  *out = shared_->events.Pop();
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
  const size_t n = shared_->events.TakeInto(out, max);
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
    shared_->events.Append(batch_);
  }
  shared_->cv.notify_all();
}

bool QuorumTransport::EventsFull() const {
  std::lock_guard lock(shared_->mu);
  return shared_->events.size() >= config_.max_pending_events;
}

}  // namespace aviary::peer
