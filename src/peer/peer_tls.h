// Quorum TLS (sslQuorum, ssl.quorum.*, portUnification) as both peer
// transports apply it, wire-compatible with ZooKeeper 3.8's QuorumX509Util
// sockets: an outgoing quorum or election connection speaks TLS when
// sslQuorum is on; a listening side takes TLS only (sslQuorum), plaintext
// only, or either, told apart by the first byte (portUnification, as
// ZooKeeper's UnifiedServerSocket). Both sides present their certificate
// and verify the other's against ssl.quorum.trustStore; with
// ssl.quorum.hostnameVerification (ZooKeeper's default for quorum) the
// certificate must also name the peer's address: the address connected to,
// or the IP an accepted connection comes from.
//
// Owns: nothing but the shared ContextSource (and so its reload thread).
// Thread use: read-only once built; the TlsStreams it makes belong to the
// transport's I/O thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/tls_stream.h"
#include "tls/context.h"

namespace aviary::peer {

struct PeerTlsConfig {
  std::shared_ptr<tls::ContextSource> source;  // null: no TLS at all
  bool connect_tls = false;                    // sslQuorum
  bool unified = false;                        // portUnification
  bool verify_host = true;                     // ssl.quorum.hostnameVerification
  int64_t handshake_timeout_ms = 10000;

  // The TLS side of an accepted connection from `peer` ("ip:port"); null
  // for a plaintext-only listener (no per-byte cost).
  std::unique_ptr<net::TlsStream> ForAccepted(const std::string& peer) const;
  // The TLS side of a connection to `host`, its handshake started (the
  // ClientHello is in `out`); null when outgoing connections are plaintext.
  // *why is set (and null returned) when TLS cannot start.
  std::unique_ptr<net::TlsStream> ForConnect(const std::string& host, std::string* why) const;
};

// The quorum TLS of a member: with sslQuorum or portUnification, builds
// (and, with cert_reload, keeps reloading) the context both transports
// share; otherwise leaves *out plaintext. False with *error naming the
// ssl.quorum.* key when the stores cannot be used (the start fails).
bool MakePeerTls(tls::TlsOptions opts, bool ssl_quorum, bool unified, PeerTlsConfig* out, std::string* error);

// `text` (an error of the TLS context builder, which names the client port's
// keys: ssl.keyStore...) with those keys named as the ssl.quorum.* keys the
// stores came from (quorum TLS, the AdminServer's HTTPS).
std::string QuorumKeyNames(std::string_view text);

// Writes what the non-blocking socket `fd` takes of a connection's output:
// `out` from `*out_pos` itself, or (when `tls` is a TLS stream) that
// plaintext encrypted once the handshake is done (then *out_pos = out.size())
// followed by the stream's pending ciphertext, cleared once all sent. False
// with *why ("TLS: ..." or "write error: ...") when the connection must close;
// a socket that would block is not an error.
bool WriteOutput(int fd, net::TlsStream* tls, const std::string& out, size_t* out_pos, std::string* why);

}  // namespace aviary::peer
