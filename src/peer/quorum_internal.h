// Private state of QuorumTransport shared by its .cc files.
#pragma once

#include "peer/quorum_transport.h"

namespace aviary::peer {

// A labelled connection's queued packets taken for writing (on_output_taken).
struct QuorumTransport::TakenOutput {
  std::string label;
  uint64_t packets;
  int64_t waited_ms;
};

// The events waiting for Poll / PollMany, oldest first: a vector and a read
// position, so that a steady stream allocates nothing per event (a deque
// allocates a node per two events, on the I/O thread, freed on the
// consumer's); PollMany takes the whole queue by swapping vectors.
class QuorumEventQueue {
 public:
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  void push_back(QuorumEvent&& ev) { items_.push_back(std::move(ev)); }
  // Appends `batch` (left empty, with a capacity).
  void Append(std::vector<QuorumEvent>& batch) {
    if (items_.empty()) {
      items_.swap(batch);
      return;
    }
    for (QuorumEvent& ev : batch) items_.push_back(std::move(ev));
    batch.clear();
  }
  QuorumEvent Pop() {
    QuorumEvent ev = std::move(items_[head_++]);
    Compact();
    return ev;
  }
  // Moves up to `max` events to the end of *out; returns how many.
  size_t TakeInto(std::vector<QuorumEvent>* out, size_t max) {
    if (head_ == 0 && items_.size() <= max && out->empty()) {
      const size_t n = items_.size();
      items_.swap(*out);  // out's buffer carries the next events
      items_.clear();
      return n;
    }
    size_t n = 0;
    for (; n < max && head_ < items_.size(); ++n) out->push_back(std::move(items_[head_++]));
    Compact();
    return n;
  }

 private:
  // Drops what was taken once it is all of the vector or most of a large one.
  void Compact() {
    if (head_ == items_.size()) {
      items_.clear();
      head_ = 0;
    } else if (head_ >= 1024 && head_ * 2 >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  std::vector<QuorumEvent> items_;
  size_t head_ = 0;
};

// Guarded by mu: the hand-over between callers and the I/O thread.
struct QuorumTransport::Shared {
  struct Out {
    std::string pending;  // accepted, not yet taken by the I/O thread
    size_t inflight = 0;  // taken, not yet written
    bool close_requested = false;
    std::string label;             // SetLabel: on_output_taken's key; empty: not sampled
    uint64_t pending_packets = 0;  // packets (Send, not SendRaw) in `pending`
    int64_t pending_since_ms = 0;  // when the oldest of them was queued
    // inline_flush: the socket of a connected plaintext connection (-1:
    // connecting, TLS, or closed), which a Flush may write `pending` to
    // itself while `inflight` is 0; `inline_busy` while it does (the I/O
    // thread then takes nothing of this connection); `writing` holds the
    // bytes being written (guarded by write_mu, not mu).
    int fd = -1;
    bool inline_busy = false;
    std::string writing;
  };
  // Held by an inline Flush while it writes (outside mu), and by the I/O
  // thread while it closes a socket: a Flush never writes to a closed (or
  // reused) fd. Order: write_mu before mu.
  std::mutex write_mu;
  struct InlineJob {
    ConnId id = 0;
    int fd = -1;
    Out* out = nullptr;  // stable: only CloseConn erases, under write_mu
    size_t written = 0;
  };
  std::vector<InlineJob> inline_jobs;     // guarded by write_mu (scratch)
  std::vector<TakenOutput> inline_taken;  // guarded by write_mu (scratch)
  mutable std::mutex mu;
  std::condition_variable cv;
  QuorumEventQueue events;
  bool interrupted = false;  // Interrupt(): the next Poll returns at once
  bool wake_due = false;     // defer_send_wakes: output queued, the I/O thread not yet woken
  ConnId next_id = 1;
  std::vector<Fd> new_listeners;
  std::vector<std::unique_ptr<Conn>> new_conns;
  std::map<ConnId, Out> out;  // live connections
};

struct QuorumTransport::Conn {
  ConnId id = 0;
  Fd fd;
  std::string peer;
  bool accepted = false;
  bool connecting = false;
  bool closing = false;  // close once `out` is written
  int64_t deadline_ms = 0;
  std::unique_ptr<quorum::PacketStreamParser> parser;
  std::string out;  // plaintext
  size_t out_pos = 0;
  std::unique_ptr<net::TlsStream> tls;  // null: plaintext connection
  // Quorum SASL (quorum_auth.h) while `authing`: one side's state machine,
  // the bytes read and not yet consumed by it, its deadline.
  bool authing = false;
  std::unique_ptr<QuorumAuthLearner> auth_learner;
  std::unique_ptr<QuorumAuthServer> auth_server;
  std::string auth_in;
  int64_t auth_deadline_ms = 0;

  // TLS (or port-unification detection) not finished: bounded by deadline_ms.
  bool handshaking() const { return tls != nullptr && !tls->plain() && !tls->ready(); }
  bool wants_write() const {
    if (tls == nullptr || tls->plain()) return out_pos < out.size() || (tls && tls->pending_out() > 0);
    return tls->pending_out() > 0 || (tls->ready() && out_pos < out.size());
  }
  size_t unsent() const { return out.size() - out_pos + (tls ? tls->pending_out() : 0); }
};

}  // namespace aviary::peer
