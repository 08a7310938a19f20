// The election-port transport, as ZooKeeper's QuorumCnxManager: one TCP
// connection per pair of servers carrying int32-length-prefixed notification
// messages, after a one-way handshake (InitialMessage) from the opener.
//
// Owns: the listener, every election connection, the per-peer send slots and
// the receive queue. Knows nothing of the election algorithm: it moves
// Notifications (quorum/codec.h) between servers by id.
//
// Threads: one I/O thread (poll on non-blocking sockets and an eventfd; no
// busy loop: it sleeps until I/O, a command or the nearest deadline). Public
// methods are thread-safe; the on_message callback runs on the I/O thread
// (on the caller's thread for a Send to our own id) and must not block; it
// may call Send.
//
// Rules kept from ZooKeeper (docs/design/quorum-wire.md):
//  - only the connection opened by the larger id survives: an opener with
//    the smaller id sends its handshake and closes; a receiver with the
//    larger id closes an incoming connection from a smaller id and connects
//    back; a newer surviving connection for a sid replaces the older one;
//  - one send slot per peer (SEND_CAPACITY 1): a newer message replaces an
//    unsent older one; the last message sent to a peer is sent again on a new
//    connection when nothing newer waits;
//  - the receive queue keeps the newest kRecvCapacity messages (oldest
//    dropped when full);
//  - a frame length outside [1, 512 KiB] or a malformed handshake closes the
//    connection; an undecodable notification is skipped (counted);
//  - an announced observer id (Long.MAX_VALUE) gets a fresh negative id.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "peer/peer_tls.h"
#include "peer/quorum_auth.h"
#include "peer/socket_util.h"
#include "quorum/codec.h"
#include "quorum/messages.h"

namespace aviary::peer {

using quorum::ServerId;

struct ElectionMember {
  ServerId id = 0;
  std::string host;  // election address
  int port = 0;
};

struct ElectionConfig {
  ServerId my_id = 0;
  std::string listen_host = "127.0.0.1";  // my election address
  int listen_port = 0;                    // 0: any free port (tests)
  bool listen_on_all_ips = false;         // quorumListenOnAllIPs
  int bind_retries = 3;                   // zookeeper.electionPortBindRetry; 0 = forever
  int bind_retry_interval_ms = 1000;
  std::vector<ElectionMember> members;  // the other servers (self is ignored)
  int connect_timeout_ms = 5000;        // zookeeper.cnxTimeout
  int handshake_timeout_ms = 5000;      // socket timeout until the handshake is read
  int64_t protocol_version = quorum::kElectionProtocolV1;
  // The address sent in our handshake (defaults to listen_host:bound port).
  std::string advertised_host;
  size_t recv_capacity = 100;  // QuorumCnxManager.RECV_CAPACITY
  // Incoming connections still owing their handshake; more are refused
  // (ZooKeeper reads handshakes one at a time in its listener thread).
  size_t max_pending_handshakes = 32;
  PeerTlsConfig tls;  // quorum TLS (peer_tls.h); default: plaintext
  // Quorum SASL (quorum_auth.h): after the InitialMessage, the opener
  // authenticates (enableSasl + learnerRequireSasl) and the receiver checks
  // (enableSasl); the exchange's time counts against handshake_timeout_ms.
  // Null: none.
  std::shared_ptr<const QuorumSasl> sasl;
  // Observers among `members`: quorum SASL authenticates to voters only (as
  // QuorumCnxManager.startConnection, which looks the sid up in the voting view).
  std::set<ServerId> non_voters;
  // Poll also returns channel events (ReceivedNotification::Kind).
  bool report_channels = false;
};

struct ReceivedNotification {
  // kChannelUp / kChannelDown (only with ElectionConfig::report_channels):
  // the channel to `from` connected, or went down (our connect failed or
  // timed out, or the established connection closed; not a connection
  // replaced by a newer one, nor the handshake-then-close of the larger-id
  // rule). Queued in order with the notifications.
  enum class Kind : uint8_t { kNotification, kChannelUp, kChannelDown };
  ServerId from = 0;
  quorum::Notification notification;
  Kind kind = Kind::kNotification;
};

struct ElectionStats {
  uint64_t connections_established = 0;
  uint64_t connections_closed = 0;
  uint64_t handshakes_rejected = 0;   // malformed or own id
  uint64_t challenges_lost = 0;       // we opened to a larger id: handshake then close
  uint64_t challenges_won = 0;        // a smaller id opened to us: closed, connected back
  uint64_t bad_frames = 0;            // length out of bounds: connection closed
  uint64_t undecodable_messages = 0;  // skipped
  uint64_t received_dropped = 0;      // receive queue full: oldest dropped
  uint64_t sends_replaced = 0;        // unsent message replaced by a newer one
  uint64_t auth_refused = 0;          // quorum SASL: closed (either side)
  uint64_t auth_succeeded = 0;        // quorum SASL: exchanges that succeeded (either side)
};

class ElectionTransport {
 public:
  using OnMessage = std::function<void(const ReceivedNotification&)>;

  explicit ElectionTransport(ElectionConfig config, OnMessage on_message = nullptr);
  ~ElectionTransport();
  ElectionTransport(const ElectionTransport&) = delete;
  ElectionTransport& operator=(const ElectionTransport&) = delete;

  // Starts the I/O thread, which binds the listener (with retries). A stopped
  // transport is not restarted: make a new one.
  void Start();
  // Waits until the listener is bound (returns the port) or binding gave up
  // or timed out (returns -1 and sets *error).
  int WaitListening(int timeout_ms, std::string* error);
  // Queues `n` for `to` (replacing an unsent one) and connects if needed.
  // To our own id: straight to the receive queue (loopback), as ZooKeeper.
  void Send(ServerId to, const quorum::Notification& n);
  // Connects to every configured member without a connection.
  void ConnectAll();
  // The next received notification, waiting up to timeout_ms.
  bool Poll(ReceivedNotification* out, int timeout_ms);
  bool Connected(ServerId sid) const;
  std::vector<ServerId> ConnectedPeers() const;
  ElectionStats stats() const;
  // Stops the thread and closes every socket. Idempotent.
  void Stop();

 private:
  struct Conn;
  struct Shared;

  void Run();
  void Loop();
  void TryBind();
  int PollTimeoutMs(int64_t now_ms) const;
  void TakeCommands();
  void Accept();
  void StartConnect(ServerId sid, const std::string& host, int port);
  void ConnectSid(ServerId sid);
  void OnConnectDone(Conn& c);
  void OnReadable(Conn& c);
  void OnWritable(Conn& c);
  bool WriteOut(Conn& c);  // false: the connection closed
  bool OnTlsInput(Conn& c, const char* data, size_t n, std::string* plain);
  void OnHandshake(Conn& c, const quorum::InitialMessage& m);
  // The opener's handshake (and authentication) is done: close a lost
  // challenge, or establish.
  void AfterHandshakeSent(Conn& c);
  // Quorum SASL on a kAuthenticating connection; false when it closed.
  bool StepAuth(Conn& c);
  void OnAuthEof(Conn& c, const char* why);
  void ConnectBack(ServerId sid, const quorum::InitialMessage& m);
  void Establish(Conn& c, ServerId sid);
  void ParseFrames(Conn& c);
  void Deliver(ServerId from, const quorum::Notification& n);
  void ReportChannel(ServerId sid, bool up);
  // Appends to the bounded receive queue (the oldest is dropped when full).
  void Enqueue(ReceivedNotification r);
  void PumpSend(Conn& c);
  // peer_alive: closed for a reason that says nothing of the peer (a newer
  // connection replaces it): no kChannelDown.
  void CloseConn(Conn& c, const char* why, bool peer_alive = false);
  void Reap();
  void CheckDeadlines(int64_t now_ms);
  void PublishConnected();
  Conn* Established(ServerId sid);
  size_t PendingHandshakes() const;
  std::string HandshakeBytes() const;

  ElectionConfig config_;
  OnMessage on_message_;
  std::unique_ptr<Shared> shared_;
  Wakeup wake_;
  std::thread thread_;
  std::atomic<bool> stop_{false};

  // I/O thread only.
  Fd listen_fd_;
  int bind_attempts_ = 0;
  int64_t next_bind_ms_ = 0;
  int bound_port_ = -1;
  uint64_t next_conn_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::map<ServerId, uint64_t> established_;   // sid -> conn id
  std::set<ServerId> connecting_;              // outgoing attempts in flight
  std::set<ServerId> retry_after_failure_;     // asked again during an attempt
  std::map<ServerId, std::string> last_sent_;  // frame bytes
  int64_t next_observer_id_ = -1;
};

}  // namespace aviary::peer
