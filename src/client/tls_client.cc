#include "client/tls_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <vector>

#include "tls/store.h"

namespace aviary::client {
namespace {

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// The store loader names the server's keys (ssl.keyStore...); the client's are zookeeper.ssl.*.
std::string ClientKeyNames(std::string text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 4, "ssl.") == 0 && (i == 0 || text[i - 1] != '.')) {
      out += "zookeeper.ssl.";
      i += 4;
    } else {
      out += text[i++];
    }
  }
  return out;
}

bool Wait(int fd, short events, int64_t deadline) {
  const int64_t left = deadline - NowMs();
  if (left <= 0) return false;
  pollfd p{fd, events, 0};
  return poll(&p, 1, static_cast<int>(std::min<int64_t>(left, INT_MAX))) > 0;
}

}  // namespace

std::unique_ptr<ClientTls> ClientTls::Create(const ClientTlsOptions& opts, std::string* error) {
  // OpenSSL writes with write(2): a server that closed must not kill the
  // client with SIGPIPE (the plaintext path sends with MSG_NOSIGNAL).
  signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<ClientTls> t(new ClientTls());
  t->verify_host_ = opts.hostname_verification;
  t->ctx_ = SSL_CTX_new(TLS_client_method());
  if (t->ctx_ == nullptr) {
    *error = "cannot create a TLS context: " + tls::OpenSslErrors();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(t->ctx_, TLS1_2_VERSION);
  SSL_CTX_set_options(t->ctx_, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  if (!opts.key_store.empty()) {
    tls::KeyStore ks;
    if (!tls::LoadKeyStore(opts.key_store, &ks, error)) {
      *error = ClientKeyNames(*error);
      return nullptr;
    }
    if (SSL_CTX_use_certificate(t->ctx_, ks.cert.get()) != 1 || SSL_CTX_use_PrivateKey(t->ctx_, ks.key.get()) != 1) {
      *error = "zookeeper.ssl.keyStore: OpenSSL refused the key or certificate: " + tls::OpenSslErrors();
      return nullptr;
    }
    for (tls::X509Ptr& c : ks.chain) SSL_CTX_add1_chain_cert(t->ctx_, c.get());
  }
  if (!opts.trust_store.empty()) {
    std::vector<tls::X509Ptr> anchors;
    if (!tls::LoadTrustStore(opts.trust_store, &anchors, error)) {
      *error = ClientKeyNames(*error);
      return nullptr;
    }
    X509_STORE* store = SSL_CTX_get_cert_store(t->ctx_);
    for (tls::X509Ptr& c : anchors) X509_STORE_add_cert(store, c.get());
    X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);  // every entry an anchor, as Java's
  } else {
    SSL_CTX_set_default_verify_paths(t->ctx_);  // Java's default trust store: the system's CAs
  }
  ERR_clear_error();
  SSL_CTX_set_verify(t->ctx_, SSL_VERIFY_PEER, nullptr);
  return t;
}

ClientTls::~ClientTls() { SSL_CTX_free(ctx_); }

SSL* ClientTls::Handshake(int fd, const std::string& host, int timeout_ms, std::string* error) const {
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) {
    *error = "TLS: " + tls::OpenSslErrors();
    SSL_free(ssl);
    return nullptr;
  }
  in6_addr ip{};
  const bool is_ip = inet_pton(AF_INET, host.c_str(), &ip) == 1 || inet_pton(AF_INET6, host.c_str(), &ip) == 1;
  if (!is_ip) SSL_set_tlsext_host_name(ssl, host.c_str());
  if (verify_host_) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    } else {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    }
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  SSL_set_mode(ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  const int64_t deadline = NowMs() + timeout_ms;
  for (;;) {
    const int r = SSL_connect(ssl);
    if (r == 1) return ssl;
    const int err = SSL_get_error(ssl, r);
    if ((err == SSL_ERROR_WANT_READ && Wait(fd, POLLIN, deadline)) ||
        (err == SSL_ERROR_WANT_WRITE && Wait(fd, POLLOUT, deadline))) {
      continue;
    }
    std::string detail = tls::OpenSslErrors();
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      detail = std::string("server certificate rejected: ") + X509_verify_cert_error_string(verify);
    } else if (detail.empty()) {
      detail = err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ? "timed out" : "connection closed";
    }
    *error = "TLS handshake with " + host + " failed: " + detail;
    SSL_free(ssl);
    return nullptr;
  }
}

bool TlsSendAll(SSL* ssl, int fd, std::string_view data, int timeout_ms) {
  const int64_t deadline = NowMs() + timeout_ms;
  while (!data.empty()) {
    const int r = SSL_write(ssl, data.data(), static_cast<int>(std::min<size_t>(data.size(), INT_MAX)));
    if (r > 0) {
      data.remove_prefix(static_cast<size_t>(r));
      continue;
    }
    const int err = SSL_get_error(ssl, r);
    ERR_clear_error();
    if ((err == SSL_ERROR_WANT_WRITE && Wait(fd, POLLOUT, deadline)) ||
        (err == SSL_ERROR_WANT_READ && Wait(fd, POLLIN, deadline))) {
      continue;
    }
    return false;
  }
  return true;
}

bool TlsFill(SSL* ssl, FrameReader* reader) {
  char chunk[16384];
  for (;;) {
    const int r = SSL_read(ssl, chunk, sizeof chunk);
    if (r > 0) {
      reader->Append(chunk, static_cast<size_t>(r));
      continue;  // drain: poll() does not see what OpenSSL already holds
    }
    const int err = SSL_get_error(ssl, r);
    ERR_clear_error();
    return err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE;
  }
}

}  // namespace aviary::client
