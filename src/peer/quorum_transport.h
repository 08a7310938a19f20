// The quorum-port transport: TCP connections carrying QuorumPacket streams
// between a leader and its learners (ZooKeeper's LearnerHandler / Learner
// sockets). The leader side listens and accepts; the learner side connects.
// The same object can do both (tests, or a server that changes role).
//
// Owns: the listener and every quorum connection, each with a bounded
// PacketStreamParser on input and a bounded output backlog. Knows nothing of
// ZAB: packets in, packets out, by connection id. Raw sections (a SNAP body
// after the SNAP packet) are handed to the RawSection that `raw_after`
// returns for a packet; the leader writes a SNAP body with SendRaw.
//
// Threads: one I/O thread (poll on non-blocking sockets + an eventfd; it
// sleeps until I/O, a command or a connect deadline); with inline_flush the
// thread that calls Flush writes too (one writer per connection at a time:
// the I/O thread writes only what it took, a Flush only while the I/O
// thread has nothing of that connection in flight). Public methods are
// thread-safe. raw_after runs on the I/O thread. Send wakes the I/O thread
// only when the connection's queued output was empty (one wakeup per burst);
// with `defer_send_wakes` it never does: the wake waits for the caller's
// next Flush, Poll or PollMany (one wakeup per pass of a consumer that
// sends and polls on one thread). Events are delivered in
// order per connection through Poll(); while more than max_pending_events
// wait, the I/O thread stops reading (back-pressure, no unbounded queue).
#pragma once

#include <poll.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "peer/peer_tls.h"
#include "peer/quorum_auth.h"
#include "peer/socket_util.h"
#include "quorum/codec.h"
#include "quorum/messages.h"

namespace aviary::peer {

using ConnId = uint64_t;

struct QuorumEvent {
  enum class Kind { kConnected, kPacket, kRawDone, kDisconnected };
  Kind kind = Kind::kPacket;
  ConnId conn = 0;
  quorum::QuorumPacket packet;              // kPacket
  std::unique_ptr<quorum::RawSection> raw;  // kRawDone: the section that ended
  std::string peer;                         // kConnected: "ip:port" of the other end
  bool accepted = false;                    // kConnected: true on the listening side
  std::string reason;                       // kDisconnected
};

struct QuorumTransportConfig {
  size_t max_packet_buffer_bytes = quorum::kDefaultMaxPacketBufferBytes;
  size_t max_output_bytes = 64 * 1024 * 1024;  // per connection; Send beyond: kFull
  size_t max_pending_events = 4096;
  int connect_timeout_ms = 5000;
  size_t max_connections = 1024;  // accepted beyond this are closed at once
  std::function<std::unique_ptr<quorum::RawSection>(ConnId, const quorum::QuorumPacket&)> raw_after;
  PeerTlsConfig tls;  // quorum TLS (peer_tls.h); default: plaintext
  // Quorum SASL (quorum_auth.h), as Learner.connectToLeader and
  // LearnerHandler run it: a connecting learner authenticates first
  // (enableSasl + learnerRequireSasl), an accepting leader checks
  // (enableSasl). kConnected is emitted once that is over; until then
  // nothing Send queued is written and nothing read is parsed. A refused or
  // failed exchange closes the connection (kDisconnected; a log line names
  // the peer). Null: none.
  std::shared_ptr<const QuorumSasl> sasl;
  // Send/SendRaw leave the I/O thread's wakeup to the next Flush / Poll /
  // PollMany (a consumer that sends a pass's packets, then polls: one
  // wakeup and fewer, larger writes per pass instead of one per burst).
  bool defer_send_wakes = false;
  // With defer_send_wakes: Flush (and Poll / PollMany, which call it)
  // writes each plaintext connection's queued output to its socket itself,
  // on the calling thread, as long as the I/O thread has nothing of that
  // connection in flight; only what the socket does not take (or output of
  // a TLS / still-connecting connection) is left to the I/O thread, which is
  // then woken. A consumer that sends a pass's packets and then polls writes
  // them with one send() per connection and no I/O-thread wakeup.
  bool inline_flush = false;
  // Called on the I/O thread (or an inline Flush's thread) each time it takes a labelled connection's
  // queued packets for writing (SetLabel): how many packets Send had queued
  // and how long the oldest of them waited. The leader feeds ZooKeeper's
  // learner_handler_qp_size / _qp_time_ms with it, keyed by learner sid.
  std::function<void(const std::string& label, uint64_t queued_packets, int64_t waited_ms)> on_output_taken;
};

class QuorumTransport {
 public:
  explicit QuorumTransport(QuorumTransportConfig config = {});
  ~QuorumTransport();
  QuorumTransport(const QuorumTransport&) = delete;
  QuorumTransport& operator=(const QuorumTransport&) = delete;

  void Start();
  // Leader side: listens on host:port (0 = free port) or the wildcard
  // (quorumListenOnAllIPs). Returns the bound port, or -1 and *error.
  int Listen(const std::string& host, int port, bool all_ips, std::string* error);
  // Learner side: starts connecting; kConnected or kDisconnected follows.
  // One attempt: retry policy (Learner.connectToLeader) is the caller's.
  ConnId Connect(const std::string& host, int port);

  enum class SendResult { kQueued, kFull, kClosed };
  SendResult Send(ConnId conn, const quorum::QuorumPacket& p);
  SendResult SendRaw(ConnId conn, std::string_view bytes);
  // Names a connection for on_output_taken (the leader: the learner's sid).
  void SetLabel(ConnId conn, std::string label);
  // Bytes accepted by Send/SendRaw and not yet written to the socket.
  size_t OutputBacklog(ConnId conn) const;
  // A sender whose Send answered kFull waits here for the output to drain:
  // it wakes the I/O thread (a deferred wake too) and sleeps timeout_ms.
  void WaitOutput(int timeout_ms);
  // Wakes the I/O thread if output was queued since the last wakeup
  // (needed only with defer_send_wakes; Poll and PollMany call it first).
  // With inline_flush it writes that output itself where it can (see there).
  void Flush();
  // Closes after writing what is queued; a kDisconnected event follows.
  void Close(ConnId conn);
  bool Poll(QuorumEvent* out, int timeout_ms);
  // Up to `max` events at once (one lock for all), appended to *out after
  // waiting up to timeout_ms for the first; returns how many.
  size_t PollMany(std::vector<QuorumEvent>* out, size_t max, int timeout_ms);
  // Makes the Poll waiting now (or the next one to wait) return false at
  // once: its caller has other work (any thread).
  void Interrupt();
  void Stop();

 private:
  struct Conn;
  struct Shared;
  struct TakenOutput;

  // `packet` (encoded into the pending output) or, if null, raw `bytes`.
  SendResult Queue(ConnId conn, std::string_view bytes, const quorum::QuorumPacket* packet);
  // inline_flush's Flush: true when the I/O thread is to be woken.
  bool FlushInline();

  void Run();
  // One round of the I/O loop: commands, deadlines, one poll() (until I/O,
  // a command or a deadline), readiness.
  void IoStep();
  void BuildPollSet(std::vector<pollfd>* fds, std::vector<ConnId>* ids, bool reading);
  int PollTimeoutMs() const;
  void TakeCommands();
  void Accept();
  void OnConnectDone(Conn& c);
  void OnReadable(Conn& c);
  void DrainParser(Conn& c);
  void OnWritable(Conn& c);
  bool WriteOut(Conn& c);  // false: the connection closed
  bool OnTlsInput(Conn& c, const char* data, size_t n);
  // Plaintext read from the socket: to the quorum SASL exchange while one
  // runs, else to the packet parser.
  void OnPlain(Conn& c, std::string_view data);
  void StepAuth(Conn& c);
  // The exchange is over (or there was none): kConnected, then what was read after it.
  void FinishAuth(Conn& c);
  void CloseConn(Conn& c, const std::string& reason);
  void Emit(QuorumEvent ev);
  void EmitBatch();  // batch_, in order, under one lock
  bool EventsFull() const;

  QuorumTransportConfig config_;
  std::unique_ptr<Shared> shared_;
  Wakeup wake_;
  std::thread thread_;
  std::atomic<bool> stop_{false};

  // I/O thread only.
  std::vector<Fd> listeners_;
  std::map<ConnId, std::unique_ptr<Conn>> conns_;
  std::vector<QuorumEvent> batch_;  // packets parsed in one read, not yet emitted
  std::vector<pollfd> fds_;
  std::vector<ConnId> ids_;
};

}  // namespace aviary::peer
