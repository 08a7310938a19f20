// Private state of ElectionTransport shared by its .cc files.
#pragma once

#include "peer/election_transport.h"

namespace aviary::peer {

// Guarded by mu: what other threads hand to the I/O thread and read from it.
struct ElectionTransport::Shared {
  mutable std::mutex mu;
  std::condition_variable cv;  // recv queue and listener state changes
  std::deque<ReceivedNotification> recv;
  std::map<ServerId, std::string> send_slots;  // newest unsent frame per peer
  std::set<ServerId> connect_requests;
  std::set<ServerId> connected;
  ElectionStats stats;
  int listen_state = 0;  // 0 pending, 1 bound, -1 gave up
  int bound_port = -1;
  std::string listen_error;
};

// One election socket, owned by the I/O thread.
struct ElectionTransport::Conn {
  enum class State {
    kConnecting,      // outgoing, connect() in flight
    kAwaitHandshake,  // incoming, reading the InitialMessage
    kAuthenticating,  // quorum SASL after the InitialMessage (quorum_auth.h)
    kEstablished,     // frames both ways
    kClosing,         // flush `out`, then close (lost challenge)
    kDead,            // closed; removed at the next loop turn
  };
  uint64_t id = 0;
  Fd fd;
  std::string peer;
  State state = State::kConnecting;
  bool outgoing = false;
  ServerId sid = 0;  // known for outgoing and after the handshake
  std::string in;
  std::string out;
  size_t out_pos = 0;
  int64_t deadline_ms = 0;              // 0: none
  std::unique_ptr<net::TlsStream> tls;  // null: plaintext (peer_tls.h)
  int64_t tls_deadline_ms = 0;          // while handshaking()
  // kAuthenticating: the opener's side (outgoing) or the receiver's, with
  // the InitialMessage it read (acted on once the exchange is over).
  std::unique_ptr<QuorumAuthLearner> auth_learner;
  std::unique_ptr<QuorumAuthServer> auth_server;
  quorum::InitialMessage handshake;

  // TLS (or port-unification detection) not finished.
  bool handshaking() const { return tls != nullptr && !tls->plain() && !tls->ready(); }
  bool wants_write() const {
    if (tls == nullptr || tls->plain()) return out_pos < out.size();
    return tls->pending_out() > 0 || (tls->ready() && out_pos < out.size());
  }
  size_t unsent() const { return out.size() - out_pos + (tls && !tls->plain() ? tls->pending_out() : 0); }
};

}  // namespace aviary::peer
