// TLS for the client side of a session (zkCli.sh's
// zookeeper.client.secure=true with the zookeeper.ssl.* properties,
// ClientX509Util): the server's certificate is verified against the trust
// store (the system's CAs when none is given) and, with hostname
// verification (the default), must name the host of the connect string; the
// key store, when given, is the client's certificate. PEM and PKCS12 stores
// through src/tls.
//
// Owns: the SSL_CTX. Each connection's SSL belongs to the Session.
// Thread use: the Session's thread.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>

#include "client/socket.h"
#include "tls/options.h"

namespace aviary::client {

struct ClientTlsOptions {
  bool enabled = false;               // zookeeper.client.secure
  tls::StoreOptions key_store;        // zookeeper.ssl.keyStore.*: the client's certificate (optional)
  tls::StoreOptions trust_store;      // zookeeper.ssl.trustStore.*: empty = the system's CAs
  bool hostname_verification = true;  // zookeeper.ssl.hostnameVerification
};

class ClientTls {
 public:
  // Null with *error (naming the zookeeper.ssl.* key) when a store cannot be used.
  static std::unique_ptr<ClientTls> Create(const ClientTlsOptions& opts, std::string* error);
  ~ClientTls();
  ClientTls(const ClientTls&) = delete;
  ClientTls& operator=(const ClientTls&) = delete;

  // The TLS handshake on a connected socket (left non-blocking) within
  // timeout_ms; null with *error when it fails.
  SSL* Handshake(int fd, const std::string& host, int timeout_ms, std::string* error) const;

 private:
  ClientTls() = default;
  SSL_CTX* ctx_ = nullptr;
  bool verify_host_ = true;
};

// Writes all of `data` through `ssl` within timeout_ms.
bool TlsSendAll(SSL* ssl, int fd, std::string_view data, int timeout_ms);
// Decrypts every record that can be read now into `reader` (as
// FrameReader::Fill: false on the end of the stream or an error).
bool TlsFill(SSL* ssl, FrameReader* reader);

}  // namespace aviary::client
