// Framed TCP server: accepts connections, splits the byte stream into
// length-prefixed frames (int32 big-endian length + payload, as the ZooKeeper
// client protocol) and hands them to a FrameSink; writes back whatever the
// owner posts. Knows nothing about the protocol beyond framing.
//
// Threads: one acceptor thread plus `io_threads` I/O threads, each with its
// own epoll set. FrameSink callbacks run on an I/O thread; Send/Close may be
// called from any thread (they post to the owning I/O thread and wake it).
//
// Bounds: a frame longer than max_frame_bytes (or negative) closes the
// connection; so does an output backlog above max_output_bytes. Flow control
// per connection: frames are parsed only while fewer than kMaxFramesInFlight
// are with the owner and the unwritten output is under 4 MiB, and at most
// max(2 MiB, 2 frames) of unparsed input is buffered - past that the socket
// is not read, so a client that does not read its replies is slowed down,
// not served at the expense of others; an owner that stops answering a
// connection whose replies pile up asks for a kDrained frame (Out::
// notify_drained) to resume it. Connections per remote IP are capped
// by max_per_ip (0 = no cap); at most max_connections in total.
//
// TLS (issue 8): with `tls` set, a second listener (secure_*) speaks TLS
// only, and with `unified` the plain listener also takes TLS (a first byte
// 0x16, a TLS handshake record, as ZooKeeper's DualModeSslHandler). The
// record layer runs on the I/O threads through memory BIOs
// (tls/conn.h): one recv is decrypted in one pass and many replies are
// encrypted into one buffer and sent together. A TLS connection is
// reported (kOpened, with the client certificate's subject) only once its
// handshake succeeded; a handshake is bounded in time
// (tls handshake_timeout_ms) and in bytes (kMaxHandshakeBytes); plaintext on
// the TLS port, a failed or slow handshake close that connection alone,
// with a log line naming the peer and the reason.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace aviary::tls {
class ContextSource;
}

namespace aviary::net {

using ConnId = uint64_t;

struct ServerOptions {
  std::string bind_address = "127.0.0.1";
  uint16_t port = 2181;  // 0 = pick a free port
  int io_threads = 2;
  int32_t max_frame_bytes = 0xfffff;
  size_t max_output_bytes = 64u << 20;
  int max_per_ip = 60;
  int max_connections = 60000;
  int listen_backlog = -1;  // -1: the OS default (SOMAXCONN)
  // Back-pressure: while this returns true, connections that become readable
  // are paused (not read) until it returns false again. Called on I/O
  // threads; must be cheap and thread-safe. Empty = never throttle.
  std::function<bool()> throttled;
  // Ask the kernel for each connection's receive timestamps (SO_TIMESTAMPNS;
  // Frame::arrived_real_ns), for measuring the I/O threads' wake-up
  // (AVIARY_LATENCY_TRACE). Off: plain recv, no timestamps.
  bool rx_timestamps = false;
  // Called first on each I/O thread as it starts (the server's thread
  // placement registers it there). Empty: nothing.
  std::function<void()> on_io_thread_start;
  // SendBatch writes a plain connection's bytes straight to its socket from
  // the calling thread (no wake-up of its I/O thread); a batch that carries
  // committed writes' replies (SendBatch's `writes`) and holds more than
  // this many outputs with bytes goes to the I/O threads instead, which
  // write it in parallel with the caller's next work (a batch of reads is
  // always direct: a read's pass is short, the hand-off would cost more).
  // -1: no bound (always direct when possible); 0: writes' batches never
  // direct.
  int direct_send_max = -1;

  // TLS. Null: no TLS anywhere. plain_enabled=false: no plain listener
  // (secureClientPort without clientPort).
  std::shared_ptr<tls::ContextSource> tls;
  bool plain_enabled = true;
  bool secure_enabled = false;
  std::string secure_bind_address;  // empty: the wildcard
  uint16_t secure_port = 0;         // 0 = pick a free port
  bool unified = false;             // client.portUnification: the plain port also takes TLS
};

inline constexpr size_t kMaxHandshakeBytes = 256u << 10;

// One unit of input from a connection, produced on an I/O thread.
struct Frame {
  enum class Kind : uint8_t {
    kOpened,      // new connection; `data` holds the peer address "ip:port"
    kPayload,     // one complete frame payload (length prefix stripped)
    kFourLetter,  // the connection began with a recognised 4-letter word (`data`: it; stmk: + its 8 bytes)
    kClosed,      // the connection is gone (peer closed, error, or bound hit)
    kDrained,     // its unwritten output fell to kDrainedMark after an Out asked (notify_drained)
  };
  Kind kind;
  ConnId conn;
  std::string data;    // kOpened, kFourLetter (see Kind); empty for kPayload
  bool first = false;  // kPayload: the connection's first frame (the handshake)
  // kOpened over TLS: the verified client certificate's subject as Java's
  // X500Principal.getName() (RFC 2253); empty without a client certificate.
  std::string x509_subject{};
  // kPayload read from the socket in this pass, ServerOptions::rx_timestamps:
  // when the last byte of that read arrived in the socket (CLOCK_REALTIME
  // ns); 0 when unknown.
  int64_t arrived_real_ns = 0;
  // kPayload: the frame's payload (length prefix stripped). It points into
  // the I/O thread's buffer of the read pass (one buffer for every frame of
  // the pass, reused: no allocation per frame) and is valid only during the
  // FrameSink::OnFrames call that delivers it: a sink that keeps a payload
  // copies it.
  std::string_view payload{};
  // The I/O thread's bookkeeping: where the payload lies in its pass buffer.
  size_t payload_off = 0;
  size_t payload_len = 0;
};

class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // Called on an I/O thread with the frames of one read pass, in order per
  // connection. The sink takes ownership of the vector's contents; the
  // payloads (Frame::payload) are views valid until it returns.
  virtual void OnFrames(std::vector<Frame>& frames) = 0;
};

class ConnectionServer {
 public:
  // `is_four_letter` is asked about the first 4 bytes of each connection.
  ConnectionServer(ServerOptions options, FrameSink* sink, std::function<bool(std::string_view)> is_four_letter);
  ~ConnectionServer();
  ConnectionServer(const ConnectionServer&) = delete;
  ConnectionServer& operator=(const ConnectionServer&) = delete;

  // Binds and starts the threads. Returns false and fills *error on failure.
  bool Start(std::string* error);
  void Stop();
  uint16_t port() const;         // the plain listener's port (0 when there is none)
  uint16_t secure_port() const;  // the TLS listener's port (0 when there is none)

  // Appends bytes to the connection's output (ignored if it is gone).
  // close_after: close once everything queued so far has been written.
  void Send(ConnId conn, std::string bytes, bool close_after = false);
  // Several sends in one post per I/O thread (the batching path).
  struct Out {
    ConnId conn;
    std::string bytes;
    bool close_after = false;
    // Frames of this connection the owner has finished taking in. A
    // connection has at most kMaxFramesInFlight frames delivered and not yet
    // consumed; the owner must report every delivered payload frame here.
    uint32_t consumed = 0;
    // Report a kDrained frame once the connection's unwritten output is at
    // most kDrainedMark (at once if it already is): an owner that stopped
    // answering a connection because its replies pile up resumes on it.
    bool notify_drained = false;
  };
  static constexpr uint32_t kMaxFramesInFlight = 256;
  static constexpr size_t kDrainedMark = 1u << 20;
  // Takes every entry's bytes and leaves the entries in `batch` for the
  // caller to clear: bytes written to the socket at once (a plain
  // connection with nothing queued) stay in their Out, emptied with their
  // storage kept, so that the caller may reuse the buffer (no allocation
  // per reply buffer); queued bytes are moved out. `writes`: the batch
  // carries replies to committed writes (direct_send_max applies).
  void SendBatch(std::vector<Out>& batch, bool writes = false);
  void Close(ConnId conn);

  size_t connection_count() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aviary::net
