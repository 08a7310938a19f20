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
  std::deque<QuorumEvent> events;
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

  // TLS (or port-unification detection) not finished: bounded by deadline_ms.
  bool handshaking() const { return tls != nullptr && !tls->plain() && !tls->ready(); }
  bool wants_write() const {
    if (tls == nullptr || tls->plain()) return out_pos < out.size() || (tls && tls->pending_out() > 0);
    return tls->pending_out() > 0 || (tls->ready() && out_pos < out.size());
  }
  size_t unsent() const { return out.size() - out_pos + (tls ? tls->pending_out() : 0); }
};

}  // namespace aviary::peer
