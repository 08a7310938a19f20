// The TLS side of one client connection for ConnectionServer's I/O thread:
// whether the connection speaks TLS (known at accept on the TLS port,
// found from the first byte on a unified port), its handshake (bounded in
// bytes; the time bound is the worker's), and the ciphertext it still has
// to send. Plaintext goes to and comes from the connection's own buffers.
//
// Owns: a tls::TlsConn once the connection is TLS; the pending ciphertext.
// Thread use: the owning I/O thread only.
#pragma once

#include <memory>
#include <string>

#include "tls/conn.h"
#include "tls/context.h"

namespace aviary::net {

class TlsStream {
 public:
  enum class Mode : uint8_t {
    kPlain,   // no TLS (plain port, or a unified port that saw plaintext)
    kDetect,  // unified port: decided by the first byte
    kTls,     // TLS port, or a unified port that saw a TLS record
  };
  TlsStream(Mode mode, std::shared_ptr<tls::ContextSource> source);

  Mode mode() const { return mode_; }
  bool plain() const { return mode_ == Mode::kPlain; }
  // A TLS connection whose handshake finished (application data may flow).
  bool ready() const { return conn_ != nullptr && conn_->handshake_done(); }

  struct Input {
    bool close = false;   // close the connection (why says why; empty: the peer closed cleanly)
    bool opened = false;  // the connection became usable with this input (report it now)
    std::string why;
  };
  // Raw bytes from the socket. Plaintext (decrypted, or the bytes
  // themselves on a plain connection) is appended to *plain.
  Input OnRaw(const char* data, size_t n, std::string* plain);
  // Quorum TLS: the peer's certificate must also name `host` (its IP
  // address; tls::TlsConn::ExpectPeer). Before the first OnRaw / StartClient.
  void ExpectPeer(std::string host) { expect_peer_ = std::move(host); }
  // The connecting side (mode kTls): starts the handshake; its ClientHello
  // is in `out` afterwards.
  Input StartClient();
  // Encrypts plaintext into the pending ciphertext. False (with *why) on error.
  bool Encrypt(const char* data, size_t n, std::string* why);
  // How much of the queued plaintext `data[0, n)` to encrypt next (at most
  // `max`) so that every client frame (4-byte length, payload) ends a TLS
  // record: a reply never shares a record with the next one. Clients that
  // wait on the socket's readability between replies need that: kazoo's
  // select() loop does not see bytes OpenSSL already buffered, so a reply
  // left in the buffer behind another waits for the next record to arrive
  // (its heartbeat then times out). Apache ZooKeeper's Netty writes each
  // reply as its own record too. Bytes that are not a frame (a four-letter
  // word's text) go out in `max`-sized steps.
  size_t NextSpan(const char* data, size_t n, size_t max);

  // Ciphertext not yet written to the socket.
  std::string out;
  size_t out_off = 0;
  size_t pending_out() const { return out.size() - out_off; }

  std::string subject() const { return conn_ ? conn_->PeerSubject() : std::string(); }
  std::string describe() const { return conn_ ? conn_->Describe() : std::string("plaintext"); }

 private:
  Input StartTls(const char* data, size_t n, std::string* plain);
  bool MakeConn(bool client, std::string* why);
  Input Drive(std::string* plain);

  Mode mode_;
  std::shared_ptr<tls::ContextSource> source_;
  std::unique_ptr<tls::TlsConn> conn_;
  size_t handshake_bytes_ = 0;
  size_t frame_left_ = 0;  // plaintext bytes of the frame NextSpan is in
  std::string expect_peer_;
};

}  // namespace aviary::net
