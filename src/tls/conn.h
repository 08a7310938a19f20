// One TLS connection's record layer, driven by the network's own socket
// I/O through memory BIOs: raw bytes read from the socket are fed in,
// plaintext comes out; plaintext to send is encrypted into a ciphertext
// buffer the caller writes to the socket. This keeps the epoll server's
// batching: one recv of many records is decrypted in one pass, and many
// replies are encrypted into one buffer sent with one send.
//
// Owns: the SSL object (which holds its own reference to the SSL_CTX it
// was made from, so a context reload never affects it).
// Thread use: one I/O thread at a time.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace aviary::tls {

class TlsConn {
 public:
  // A connection on `ctx`, server side (accept) unless `client` (connect:
  // the first Handshake produces the ClientHello); null (with *error) if
  // OpenSSL fails.
  static std::unique_ptr<TlsConn> Create(SSL_CTX* ctx, std::string* error, bool client = false);
  // Also requires the peer's certificate to name `host` (an IP address is
  // matched against the IP SANs, a name against the DNS SANs / CN), as
  // ZooKeeper's ZKTrustManager hostname verification. Before Handshake.
  bool ExpectPeer(const std::string& host);
  ~TlsConn();
  TlsConn(const TlsConn&) = delete;
  TlsConn& operator=(const TlsConn&) = delete;

  // Raw bytes from the socket.
  void Feed(const char* data, size_t n);
  // Input fed but not yet consumed by OpenSSL.
  size_t PendingInput() const;

  enum class Status { kOk, kClosed, kError };
  // Advances the handshake. kOk with handshake_done() false: needs more input.
  Status Handshake(std::string* why);
  bool handshake_done() const { return done_; }
  // Decrypts every complete record fed so far, appending plaintext to
  // *plain (at most about max_bytes more). kClosed: the peer's close_notify.
  Status Read(std::string* plain, size_t max_bytes, std::string* why);
  // Encrypts `n` bytes into the pending ciphertext.
  Status Write(const char* data, size_t n, std::string* why);
  // Appends the pending ciphertext (handshake, alerts, records) to *out.
  void TakeOutput(std::string* out);
  size_t PendingOutput() const;

  // After the handshake: the verified peer certificate's subject in
  // X500Principal.getName() form; empty when the client sent none.
  std::string PeerSubject() const;
  // "TLSv1.3 TLS_AES_256_GCM_SHA384", for logs.
  std::string Describe() const;

 private:
  TlsConn() = default;
  Status Fail(int ret, std::string_view what, std::string* why);

  // A memory BIO keeps its largest size; once a big burst went through an
  // emptied one, it is replaced, so an idle connection holds little memory.
  void ShrinkBuffers();

  SSL* ssl_ = nullptr;
  BIO* in_ = nullptr;     // owned by ssl_
  BIO* out_ = nullptr;    // owned by ssl_
  size_t in_grown_ = 0;   // bytes fed through in_ since it was made
  size_t out_grown_ = 0;  // bytes taken from out_ since it was made
  bool done_ = false;
};

}  // namespace aviary::tls
